import type { ChangeEvent } from '../../server/changes/event.ts'

/** A real SSE client over fetch for GET /api/v1/changes: what it received, parsed, with ids. */
export interface SseClient {
  status: number
  contentType: string | null
  /** The `data` of every `change` message so far, in arrival order. */
  events: ChangeEvent[]
  /** The `id:` lines, as sent. */
  ids: string[]
  /** Resolves once at least `n` events arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<ChangeEvent[]>
  close(): void
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const ac = new AbortController()
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal })
  const client: SseClient = {
    status: res.status,
    contentType: res.headers.get('content-type'),
    events: [],
    ids: [],
    async waitFor(n, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs
      while (client.events.length < n) {
        if (Date.now() > until) throw new Error(`only ${client.events.length} of ${n} events after ${timeoutMs} ms`)
        await new Promise((r) => setTimeout(r, 10))
      }
      return client.events
    },
    close: () => ac.abort(),
  }
  if (!res.ok || !res.body) return client
  void (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          let id: string | undefined
          let event = 'message'
          let data = ''
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) id = line.slice(4)
            else if (line.startsWith('event: ')) event = line.slice(7)
            else if (line.startsWith('data: ')) data += line.slice(6)
          }
          if (event === 'change' && data) {
            client.events.push(JSON.parse(data) as ChangeEvent)
            if (id !== undefined) client.ids.push(id)
          }
        }
      }
    } catch {
      // aborted by close()
    }
  })()
  return client
}

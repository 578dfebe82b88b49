import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMetrics } from '../../server/observability/metrics.ts'
import { createTestApi, type TestApi } from '../helpers/api.ts'
import { openSse, type SseClient } from '../helpers/sse.ts'

// SSE_MAX_STREAMS_PER_IP and SSE_MAX_STREAMS on a real server: the REST feed
// and the tRPC subscription share one count per client address and one per
// instance; closing a stream frees its slot.
const NOW = Date.parse('2026-12-01T00:00:00Z')
const A = '203.0.113.1'
const B = '203.0.113.2'
const C = '203.0.113.3'

let api: TestApi
const open: SseClient[] = []
beforeAll(async () => {
  api = await createTestApi({ now: NOW, trustProxy: true, edge: { maxStreamsPerClient: 2, maxStreams: 3 } })
  await api.listen()
})
afterAll(async () => {
  for (const s of open) s.close()
  await api?.close()
})

const rest = async (ip: string) => {
  const s = await openSse(`${api.url}/api/v1/changes`, { 'x-forwarded-for': ip })
  open.push(s)
  return s
}

/** The tRPC subscription as httpSubscriptionLink opens it (GET, SSE). */
async function trpcSubscription(ip: string): Promise<{ res: Response; close(): void }> {
  const ac = new AbortController()
  const res = await fetch(`${api.url}/trpc/availability.changes`, { headers: { accept: 'text/event-stream', 'x-forwarded-for': ip }, signal: ac.signal })
  return { res, close: () => ac.abort() }
}

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !cond(); ) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function gauge(): Promise<number> {
  const m = createMetrics({ syncStatus: () => undefined, openStreams: () => api.streams.open, processDefaults: false })
  const line = (await m.scrape()).body.split('\n').find((l) => l.startsWith('slotsync_open_streams '))
  return Number(line?.split(' ')[1])
}

describe('change streams over the caps', () => {
  it('per client: 429 with Retry-After in the error shape, REST and tRPC counted together; closing one frees its slot', async () => {
    const first = await rest(A)
    const sub = await trpcSubscription(A)
    expect([first.status, sub.res.status]).toEqual([200, 200])
    expect(sub.res.headers.get('content-type')).toMatch(/text\/event-stream/)
    expect(api.streams.open).toBe(2)
    expect(await gauge()).toBe(2)

    const third = await fetch(`${api.url}/api/v1/changes`, { headers: { accept: 'text/event-stream', 'x-forwarded-for': A } })
    expect(third.status).toBe(429)
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await third.json()).toEqual({ error: { code: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/SSE_MAX_STREAMS_PER_IP/) } })
    const refusedSub = await trpcSubscription(A)
    expect(refusedSub.res.status).toBe(429)
    expect(refusedSub.res.headers.get('retry-after')).not.toBeNull()
    expect(await refusedSub.res.json()).toMatchObject({ error: { code: 'TOO_MANY_REQUESTS' } })

    sub.close()
    await until(() => api.streams.open === 1)
    const again = await rest(A)
    expect(again.status).toBe(200)
    expect(await gauge()).toBe(2)
  })

  it('per instance: 503 with Retry-After once every slot is taken, whoever asks', async () => {
    const b = await rest(B)
    expect(b.status).toBe(200)
    expect(api.streams.open).toBe(3)
    const c = await fetch(`${api.url}/api/v1/changes`, { headers: { accept: 'text/event-stream', 'x-forwarded-for': C } })
    expect(c.status).toBe(503)
    expect(Number(c.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await c.json()).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/SSE_MAX_STREAMS/) } })
    // Ordinary reads are not streams: they still answer.
    expect((await fetch(`${api.url}/api/v1/sync/status`, { headers: { 'x-forwarded-for': C } })).status).toBe(200)

    b.close()
    await until(() => api.streams.open === 2)
    const c2 = await rest(C)
    expect(c2.status).toBe(200)
    expect(await gauge()).toBe(3)
  })

  it('a stream refused before it starts (bad input) gives its slot back', async () => {
    for (const s of open) s.close()
    await until(() => api.streams.open === 0)
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${api.url}/api/v1/changes?productId=x`, { headers: { accept: 'text/event-stream', 'x-forwarded-for': A } })
      expect(r.status).toBe(400)
    }
    await until(() => api.streams.open === 0)
    expect((await rest(A)).status).toBe(200)
  })
})

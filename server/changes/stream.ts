import type { Db } from '../db/client.ts'
import { wants, type ChangeEvent } from './event.ts'
import type { ChangeHub } from './hub.ts'
import { readChangesAfter } from './log.ts'

export interface ChangeStreamOptions {
  /** Only these products (none or empty: all). */
  productIds?: readonly number[]
  /** Resume: first every logged event after this id, then live ones. Unset: live from now. */
  lastEventId?: number
  /** Ends the stream (the client went away, the server is closing). */
  signal?: AbortSignal
}

export interface ChangeStreamDeps {
  hub: Pick<ChangeHub, 'subscribe'>
  prisma: Pick<Db, '$queryRaw'>
  /** Live events a slow subscriber may have waiting before it is switched to reading the log. */
  maxBuffered?: number
  /** Events per log read while replaying. */
  pageSize?: number
}

/**
 * One subscriber's events, each once and in id order. It subscribes to the
 * hub before reading the log, so nothing falls between the replay and the
 * live events; what both deliver is skipped by id. A subscriber that falls
 * too far behind does not hold an ever-growing buffer: its live events are
 * dropped and it reads them back from the log, which has them all.
 */
export async function* changeStream(deps: ChangeStreamDeps, o: ChangeStreamOptions = {}): AsyncGenerator<ChangeEvent> {
  const maxBuffered = deps.maxBuffered ?? 10_000
  const pageSize = deps.pageSize ?? 500
  const filter = o.productIds?.length ? new Set(o.productIds) : undefined
  const productIds = filter ? [...filter] : undefined
  let queue: ChangeEvent[] = []
  let head = 0
  let overflowed = false
  let wake: (() => void) | undefined
  const unsubscribe = deps.hub.subscribe((e) => {
    if (!wants(filter, e)) return
    if (queue.length - head >= maxBuffered) overflowed = true
    else queue.push(e)
    wake?.()
  })
  const onAbort = () => wake?.()
  o.signal?.addEventListener('abort', onAbort)
  let last = o.lastEventId ?? -1
  let replay = o.lastEventId !== undefined
  try {
    while (!o.signal?.aborted) {
      if (overflowed) {
        overflowed = false
        queue = []
        head = 0
        replay = true
      }
      if (replay) {
        replay = false
        for (;;) {
          const page = await readChangesAfter(deps.prisma, Math.max(last, 0), { productIds, limit: pageSize })
          for (const e of page) {
            if (o.signal?.aborted) return
            if (e.id <= last) continue
            last = e.id
            yield e
          }
          if (page.length < pageSize) break
        }
        continue
      }
      if (head < queue.length) {
        const e = queue[head++]!
        if (head > 1024 && head * 2 > queue.length) {
          queue = queue.slice(head)
          head = 0
        }
        if (e.id <= last) continue
        last = e.id
        yield e
        continue
      }
      await new Promise<void>((resolve) => (wake = resolve))
      wake = undefined
    }
  } finally {
    unsubscribe()
    o.signal?.removeEventListener('abort', onAbort)
  }
}

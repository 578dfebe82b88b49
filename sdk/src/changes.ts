import { toSlotsyncError, type SlotsyncError } from './errors.ts'
import type { ChangeEvent, ChangesInput } from './types.ts'

export interface WatchChangesOptions {
  /** Only these products (default: all). */
  productIds?: number[]
  /** Start after this event id (the last one you processed); default: from now on. */
  lastEventId?: number
  /** Each event once, in id order, across reconnects. */
  onEvent: (event: ChangeEvent) => void
  /** A failure. Retryable ones (no answer, 429, 5xx) are followed by a reconnect; others end the watch. */
  onError?: (error: SlotsyncError) => void
  /** Reconnect backoff after a failure: doubles from `minDelayMs` up to `maxDelayMs`. Default 500 ms to 15 s. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number }
}

export interface ChangeWatch {
  /** The id of the last event delivered: keep it to resume a later watch where this one stopped. */
  readonly lastEventId: number | undefined
  /** Stops watching (no more callbacks). */
  close(): void
}

interface Unsubscribable {
  unsubscribe(): void
}

/** The tracked events of availability.changes as httpSubscriptionLink delivers them. */
interface TrackedEvent {
  id: string
  data: ChangeEvent
}

export type SubscribeChanges = (
  input: ChangesInput,
  handlers: { onStarted: () => void; onData: (t: TrackedEvent) => void; onError: (err: unknown) => void; onComplete: () => void },
) => Unsubscribable

/**
 * Watches availability.changes and keeps watching: when the stream ends or
 * fails it subscribes again with the last id it delivered, so nothing is
 * missed or repeated (the server replays its log after that id). tRPC's
 * link already resumes a dropped EventSource with that id; this covers the
 * rest (the server closing the stream at shutdown, a refused reconnect).
 */
export function watchChanges(subscribe: SubscribeChanges, o: WatchChangesOptions): ChangeWatch {
  const minDelay = o.reconnect?.minDelayMs ?? 500
  const maxDelay = o.reconnect?.maxDelayMs ?? 15_000
  let last = o.lastEventId
  let closed = false
  let failures = 0
  let current: Unsubscribable | undefined
  let timer: ReturnType<typeof setTimeout> | undefined

  const again = () => {
    current?.unsubscribe()
    current = undefined
    if (closed || timer) return
    const step = Math.min(maxDelay, minDelay * 2 ** failures++)
    // Jitter: clients dropped together (a restart) do not come back together.
    timer = setTimeout(
      () => {
        timer = undefined
        connect()
      },
      step / 2 + Math.random() * (step / 2),
    )
  }

  const connect = () => {
    if (closed) return
    const input = { ...(o.productIds ? { productIds: o.productIds } : {}), ...(last !== undefined ? { lastEventId: last } : {}) }
    current = subscribe(input, {
      onStarted: () => {
        failures = 0
      },
      onData: (t) => {
        const e = t.data
        if (closed || (last !== undefined && e.id <= last)) return
        last = e.id
        o.onEvent(e)
      },
      onError: (err) => {
        if (closed) return
        const e = toSlotsyncError(err, 'availability.changes')
        o.onError?.(e)
        if (e.retryable) again()
        else close()
      },
      onComplete: again,
    })
  }

  const close = () => {
    closed = true
    clearTimeout(timer)
    current?.unsubscribe()
    current = undefined
  }

  connect()
  return {
    get lastEventId() {
      return last
    },
    close,
  }
}

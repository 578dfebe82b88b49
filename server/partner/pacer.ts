import type { Clock } from '../clock.ts'

/**
 * The earliest instant ≥ `now` at which one more send keeps every rolling
 * window of `windowMs` at or under `limit` sends. A window is half-open,
 * (t − windowMs, t], the same rule the partner sandbox enforces: a send at
 * `s` stops counting at exactly `s + windowMs`.
 *
 * A token bucket would allow 2 × limit across a refill boundary; a log of
 * the last `limit` sends cannot (partner-api.md, "Rate limit").
 */
export function nextSendAt(sentTimes: readonly number[], now: number, limit: number, windowMs = 60_000): number {
  if (limit < 1) throw new RangeError(`limit must be at least 1, got ${limit}`)
  const recent = sentTimes.filter((t) => t > now - windowMs).sort((a, b) => a - b)
  if (recent.length < limit) return now
  // The send that has to leave the window: with `limit` younger ones behind it, only it matters.
  const blocking = recent[recent.length - limit]!
  return Math.max(now, blocking + windowMs)
}

export interface PacerOptions {
  limitPerMinute: number
  clock: Clock
  /**
   * Added to the window. Our clock reads the send time before the request
   * leaves; the partner stamps it on arrival. Arrivals jitter, so two sends
   * exactly 60 s apart here can land 59.99 s apart there. Default 250 ms.
   */
  marginMs?: number
  windowMs?: number
}

export interface Pacer {
  /** Resolves when one more request may be sent now; records it as sent. */
  acquire(): Promise<void>
  /** Sends recorded in the current window (for logs and tests). */
  inWindow(): number
}

/** An in-memory sliding-window-log pacer for one process (the engine shares a Postgres-backed one). */
export function createPacer(opts: PacerOptions): Pacer {
  const { clock, limitPerMinute: limit } = opts
  const windowMs = (opts.windowMs ?? 60_000) + (opts.marginMs ?? 250)
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limitPerMinute must be a positive integer, got ${limit}`)
  let sent: number[] = []
  // Waiters are served one at a time, in arrival order, so none starves.
  let queue: Promise<void> = Promise.resolve()

  async function takeTurn(): Promise<void> {
    for (;;) {
      const now = clock.now()
      sent = sent.filter((t) => t > now - windowMs)
      const at = nextSendAt(sent, now, limit, windowMs)
      if (at <= now) {
        sent.push(now)
        return
      }
      await clock.sleep(at - now)
    }
  }

  return {
    acquire() {
      const turn = queue.then(takeTurn)
      queue = turn.catch(() => {})
      return turn
    },
    inWindow() {
      const now = clock.now()
      return sent.filter((t) => t > now - windowMs).length
    },
  }
}

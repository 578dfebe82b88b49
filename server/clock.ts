/**
 * The one source of "now" for the sync engine and the partner sandbox, so a
 * simulated day can run in seconds (tests, benchmarks) on the same code.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number
  /** Resolves after `ms` of this clock's time (or earlier when aborted). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

function abortableTimeout(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const t = setTimeout(done, Math.max(0, ms))
    function done() {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: abortableTimeout,
}

/** A clock that moves only when told to: for unit tests. */
export function manualClock(start: number): Clock & { set(ms: number): void; advance(ms: number): void; nextWakeAt(): number | undefined } {
  let now = start
  const waiters: { until: number; resolve: () => void }[] = []
  const wake = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!
      if (w.until <= now) {
        waiters.splice(i, 1)
        w.resolve()
      }
    }
  }
  return {
    now: () => now,
    set(ms) {
      now = ms
      wake()
    },
    advance(ms) {
      now += ms
      wake()
    },
    /** The earliest instant a sleeper waits for (a discrete-event simulation jumps there). */
    nextWakeAt() {
      return waiters.length ? Math.min(...waiters.map((w) => w.until)) : undefined
    },
    sleep(ms, signal) {
      return new Promise((resolve) => {
        if (ms <= 0 || signal?.aborted) return resolve()
        // The abort listener goes when the sleep ends either way: a long
        // simulation sleeps a million times on one signal.
        const onAbort = () => {
          const i = waiters.indexOf(w)
          if (i >= 0) waiters.splice(i, 1)
          resolve()
        }
        const w = {
          until: now + ms,
          resolve: () => {
            signal?.removeEventListener('abort', onAbort)
            resolve()
          },
        }
        waiters.push(w)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    },
  }
}

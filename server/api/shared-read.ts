import type { Services } from './services.ts'

/**
 * One read shared by every caller: while a load is in flight, callers join
 * it (single flight), and its value is reused for `ttlMs` after the load
 * began. A failed load is handed to the callers that joined it and then
 * forgotten, so the next caller loads anew. With ttlMs = 0 only concurrent
 * callers share.
 *
 * For reads whose cost does not depend on the caller and whose answer is
 * allowed to be a moment old (sync status, the dashboard's grids, the
 * metrics scrape): a tRPC batch of 50 `sync.status`, or 50 dashboards, cost
 * one query instead of fifty.
 */
export interface SharedRead<T> {
  get(): Promise<T>
  /** Forgets the value and any load in flight: the next get() loads anew (after this instance's own writes). */
  invalidate(): void
}

export interface SharedReadOptions {
  ttlMs: number
  /** Milliseconds, monotonic; real time by default (how old a shared value may be is not domain time). */
  now?: () => number
}

export function sharedRead<T>(load: () => Promise<T>, opts: SharedReadOptions): SharedRead<T> {
  const now = opts.now ?? (() => performance.now())
  let current: { at: number; value: Promise<T>; settled: boolean } | undefined
  return {
    get() {
      const t = now()
      if (current && (!current.settled || t - current.at < opts.ttlMs)) return current.value
      const entry: { at: number; value: Promise<T>; settled: boolean } = { at: t, value: Promise.resolve().then(load), settled: false }
      current = entry
      entry.value.then(
        () => {
          entry.settled = true
        },
        () => {
          if (current === entry) current = undefined
        },
      )
      return entry.value
    },
    invalidate() {
      current = undefined
    },
  }
}

/**
 * The API's services with the expensive shared reads (sync status, the
 * freshness grid, the budget history) shared per `ttlMs`. This instance's own
 * writes that change them (pause, resume, run, a product added or removed)
 * drop the shared values, so a caller reads its own write at once; other
 * instances' writes show within ttlMs.
 */
export function shareExpensiveReads(services: Services, ttlMs: number): Services {
  const status = sharedRead(() => services.sync.status(), { ttlMs })
  const freshness = sharedRead(() => services.syncReads.freshness(), { ttlMs })
  const budgetHistory = sharedRead(() => services.syncReads.budgetHistory(), { ttlMs })
  const after = async <R>(write: Promise<R>, ...reads: SharedRead<unknown>[]): Promise<R> => {
    try {
      return await write
    } finally {
      for (const r of reads) r.invalidate()
    }
  }
  const { sync, syncReads, catalogue } = services
  return {
    ...services,
    sync: {
      ...sync,
      status: () => status.get(),
      pause: (productId) => after(sync.pause(productId), status, freshness),
      resume: (productId) => after(sync.resume(productId), status, freshness),
      run: (req) => after(sync.run(req), status),
    },
    syncReads: { ...syncReads, freshness: () => freshness.get(), budgetHistory: () => budgetHistory.get() },
    catalogue: {
      ...catalogue,
      upsert: (productId, timeZone) => after(catalogue.upsert(productId, timeZone), status, freshness),
      remove: (productId) => after(catalogue.remove(productId), status, freshness),
    },
  }
}

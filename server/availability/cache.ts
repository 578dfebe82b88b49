/**
 * A micro-cache for hot reads: a value is reused for `ttlMs` of clock time,
 * and concurrent misses of one key share a single load, so a burst on a
 * popular day costs one query, not one per request. A failed load is not
 * kept. Bounded: it holds only what was loaded within the last `ttlMs`, and
 * past `maxEntries` the oldest entries go first.
 *
 * With ttlMs = 0 every call loads (no caching at all).
 */
export interface ReadCache {
  get<T>(key: string, load: () => Promise<T>): Promise<T>
  /** Drops every key starting with `prefix` (all keys when omitted). */
  invalidate(prefix?: string): void
  readonly size: number
}

export function createReadCache(opts: { ttlMs: number; maxEntries?: number; now: () => number }): ReadCache {
  const { ttlMs, now } = opts
  const maxEntries = opts.maxEntries ?? 20_000
  const entries = new Map<string, { at: number; value: Promise<unknown> }>()

  return {
    get<T>(key: string, load: () => Promise<T>): Promise<T> {
      if (ttlMs <= 0) return load()
      const t = now()
      const hit = entries.get(key)
      // A clock moved backwards (tests, skew) also invalidates.
      if (hit && t - hit.at < ttlMs && t >= hit.at) return hit.value as Promise<T>
      const value = load()
      entries.delete(key)
      entries.set(key, { at: t, value })
      // Entries sit in load order, so the expired ones are at the front: drop
      // them now, or every key ever read keeps its value until maxEntries.
      for (const [k, e] of entries) {
        if (t - e.at < ttlMs && t >= e.at) break
        entries.delete(k)
      }
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!)
      value.catch(() => {
        if (entries.get(key)?.value === value) entries.delete(key)
      })
      return value
    },
    invalidate(prefix) {
      if (prefix === undefined) return entries.clear()
      for (const key of entries.keys()) if (key.startsWith(prefix)) entries.delete(key)
    },
    get size() {
      return entries.size
    },
  }
}

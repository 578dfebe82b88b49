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

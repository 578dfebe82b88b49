import { SlotsyncError } from './errors.ts'

/** Retries for queries (never mutations). */
export interface RetryOptions {
  /** Attempts after the first. Default 2. */
  retries?: number
  /** The first backoff; each next one doubles. Default 250 ms. */
  minDelayMs?: number
  /** No wait is longer, `Retry-After` included. Default 5000 ms. */
  maxDelayMs?: number
}

export interface RetryPolicy {
  retries: number
  minDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 2, minDelayMs: 250, maxDelayMs: 5000 }
const NO_RETRY: RetryPolicy = { ...DEFAULT_RETRY, retries: 0 }

/** `retry` option → policy; off unless asked for. Throws TypeError on nonsense, at creation rather than mid-call. */
export function retryPolicy(option: boolean | RetryOptions | undefined): RetryPolicy {
  if (option === undefined || option === false) return NO_RETRY
  const p = option === true ? DEFAULT_RETRY : { ...DEFAULT_RETRY, ...stripUndefined(option) }
  const wholeIn = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max
  if (!wholeIn(p.retries, 0, 10)) throw new TypeError(`retry.retries must be a whole number from 0 to 10, got ${p.retries}`)
  if (!wholeIn(p.minDelayMs, 0, 60_000)) throw new TypeError(`retry.minDelayMs must be 0 to 60000 ms, got ${p.minDelayMs}`)
  if (!wholeIn(p.maxDelayMs, p.minDelayMs, 300_000)) throw new TypeError(`retry.maxDelayMs must be minDelayMs to 300000 ms, got ${p.maxDelayMs}`)
  return p
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/**
 * The wait before retry number `attempt + 1`: the server's `Retry-After` when
 * it gave one we are willing to wait, else exponential backoff with jitter
 * (between half and all of the step) so clients that failed together do not
 * come back together.
 */
export function delayFor(attempt: number, policy: RetryPolicy, err: SlotsyncError, random: () => number = Math.random): number {
  if (err.retryAfterMs !== undefined && err.retryAfterMs <= policy.maxDelayMs) return err.retryAfterMs
  const step = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** attempt)
  return Math.round(step / 2 + (random() * step) / 2)
}

/** Runs `call`, trying again on retryable SlotsyncErrors while the policy allows and the signal has not fired. */
export async function withRetry<T>(call: () => Promise<T>, policy: RetryPolicy, path: string, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call()
    } catch (err) {
      if (!(err instanceof SlotsyncError) || !err.retryable || attempt >= policy.retries) throw err
      await sleep(delayFor(attempt, policy, err), path, signal)
    }
  }
}

function sleep(ms: number, path: string, signal?: AbortSignal): Promise<void> {
  const aborted = () => new SlotsyncError(`${path}: the call was aborted`, { code: 'ABORTED', path, cause: signal?.reason })
  if (signal?.aborted) return Promise.reject(aborted())
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer)
      reject(aborted())
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

import { systemClock, type Clock } from '../clock.ts'
import { PartnerError } from './errors.ts'
import { validateDay, type PartnerSlot } from './schema.ts'
import { silentLogger, type Logger } from '../logger.ts'

/** Kept as a name for this module's callers. */
export type PartnerLogger = Logger

export interface PartnerClientOptions {
  baseUrl: string
  apiKey: string
  /** Per attempt, in real milliseconds (the body read included). Default 10 000. */
  timeoutMs?: number
  /** 5xx, timeouts and dropped connections are retried up to this many attempts in all. Default 3. */
  maxAttempts?: number
  /** Jittered exponential backoff between attempts, in clock ms. Defaults 250 and 5 000. */
  backoffBaseMs?: number
  backoffMaxMs?: number
  clock?: Clock
  logger?: PartnerLogger
  /** Called before EVERY HTTP attempt (retries too); resolves when the shared budget allows one request. */
  acquire?: (req: { productId: number; date: string; attempt: number }) => Promise<void>
  /**
   * After a 429, hold every later request of this client until the reset.
   * Default true. The sync engine turns it off: its halt is shared through
   * the database and checked before a request is stamped into the window; a
   * second, local hold would delay a request already stamped as sent.
   */
  holdWhileRateLimited?: boolean
  /** Called when the partner answers 429, with the instant (epoch ms) requests are allowed again. */
  onRateLimited?: (resetAt: number) => void | Promise<void>
  fetch?: typeof fetch
}

interface Outcome {
  attempts: number
  /** Real ms of the final HTTP attempt; waits for the budget, halts and backoff excluded. */
  latencyMs: number
}
export type FetchDayResult =
  | ({ ok: true; productId: number; date: string; slots: PartnerSlot[] } & Outcome)
  | ({ ok: false; productId: number; date: string; error: PartnerError } & Outcome)

export interface PartnerClient {
  /**
   * One day's inventory, validated whole. Partner problems come back as a
   * failure, never thrown; it rejects only when `signal` aborts.
   */
  fetchDay(productId: number, date: string, signal?: AbortSignal): Promise<FetchDayResult>
  /** Epoch ms (client clock) until which no request is sent because of a 429; 0 if never limited. */
  haltedUntil(): number
}

/** Without a usable `reset` or `Retry-After`, a 429 holds the client this long. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000
/** A reset further out than this is treated as a partner bug, not obeyed literally. */
const MAX_RATE_LIMIT_WAIT_MS = 60 * 60_000
/** A reset already past on our clock still pauses this long, so clock skew cannot make us hammer. */
const MIN_RATE_LIMIT_WAIT_MS = 1_000

const silent = silentLogger

type Attempt = { ok: true; slots: PartnerSlot[]; status: number } | { ok: false; error: PartnerError }

export function createPartnerClient(opts: PartnerClientOptions): PartnerClient {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '')
  const apiKey = opts.apiKey
  const timeoutMs = opts.timeoutMs ?? 10_000
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 3)
  const backoffBaseMs = opts.backoffBaseMs ?? 250
  const backoffMaxMs = opts.backoffMaxMs ?? 5_000
  const clock = opts.clock ?? systemClock
  const log = opts.logger ?? silent
  const doFetch = opts.fetch ?? globalThis.fetch
  let halted = 0

  const hold = opts.holdWhileRateLimited ?? true

  async function waitWhileHalted(signal?: AbortSignal) {
    while (hold && clock.now() < halted) {
      await clock.sleep(halted - clock.now(), signal)
      signal?.throwIfAborted()
    }
  }

  /** Waits out any 429 pause, then for the budget; a 429 that arrived while queued for the budget sends us back. */
  async function gate(productId: number, date: string, attempt: number, signal?: AbortSignal) {
    for (;;) {
      await waitWhileHalted(signal)
      signal?.throwIfAborted()
      await opts.acquire?.({ productId, date, attempt })
      signal?.throwIfAborted()
      if (!hold || clock.now() >= halted) return
    }
  }

  async function attemptOnce(productId: number, date: string, signal?: AbortSignal): Promise<Attempt> {
    const url = `${baseUrl}/api/v1/inventory/${productId}?date=${encodeURIComponent(date)}`
    const ctrl = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      ctrl.abort()
    }, timeoutMs)
    const forward = () => ctrl.abort()
    signal?.addEventListener('abort', forward, { once: true })
    try {
      // redirect 'manual': fetch would carry x-api-key to whatever host a redirect names.
      const res = await doFetch(url, { headers: { 'x-api-key': apiKey, accept: 'application/json' }, signal: ctrl.signal, redirect: 'manual' })
      const text = await res.text()
      return interpret(res.status, res.headers, text, date)
    } catch (err) {
      signal?.throwIfAborted()
      if (timedOut) return { ok: false, error: new PartnerError('timeout', `partner did not answer within ${timeoutMs} ms`) }
      return { ok: false, error: new PartnerError('network', `partner connection failed (${networkCode(err)})`) }
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', forward)
    }
  }

  function interpret(status: number, headers: Headers, text: string, date: string): Attempt {
    if (status === 200) {
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        return { ok: false, error: new PartnerError('invalid_response', `malformed JSON (${text.length} bytes)`, { status }) }
      }
      const v = validateDay(body, date)
      if (!v.ok) return { ok: false, error: new PartnerError('invalid_response', `response breaks the contract: ${v.reason}`, { status }) }
      return { ok: true, slots: v.slots, status }
    }
    if (status === 429) {
      const retryAt = rateLimitResetAt(text, headers, clock.now())
      return { ok: false, error: new PartnerError('rate_limited', `partner rate limit reached; allowed again at ${new Date(retryAt).toISOString()}`, { status, retryAt }) }
    }
    if (status === 401) return { ok: false, error: new PartnerError('unauthorized', 'partner rejected the API key (HTTP 401)', { status }) }
    return { ok: false, error: new PartnerError('http', `partner answered HTTP ${status}`, { status }) }
  }

  async function haltUntil(resetAt: number, ctx: { productId: number; date: string }) {
    halted = Math.max(halted, resetAt)
    log.warn({ ...ctx, resetAt, waitMs: resetAt - clock.now() }, 'partner rate limit hit: holding every request until reset')
    try {
      await opts.onRateLimited?.(resetAt)
    } catch (err) {
      log.error({ ...ctx, err: err instanceof Error ? err.message : String(err) }, 'onRateLimited failed')
    }
  }

  function backoff(attempt: number): number {
    const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (attempt - 1))
    // Half fixed, half random: spreads a burst of retries without ever retrying instantly.
    return ceiling / 2 + (Math.random() * ceiling) / 2
  }

  return {
    haltedUntil: () => halted,
    async fetchDay(productId, date, signal) {
      const ctx = { productId, date }
      let latencyMs = 0
      for (let attempt = 1; ; attempt++) {
        await gate(productId, date, attempt, signal)
        const t0 = performance.now()
        const r = await attemptOnce(productId, date, signal)
        latencyMs = Math.round(performance.now() - t0)
        if (r.ok) {
          log.debug({ ...ctx, attempt, status: r.status, latencyMs, slots: r.slots.length }, 'partner day fetched')
          return { ok: true, ...ctx, slots: r.slots, attempts: attempt, latencyMs }
        }
        const { error } = r
        const fail = { ok: false as const, ...ctx, error, attempts: attempt, latencyMs }
        if (error.kind === 'rate_limited') {
          // Retrying here would only hammer a partner that already said no: the caller reschedules.
          await haltUntil(error.retryAt!, ctx)
          return fail
        }
        if (error.kind === 'invalid_response') log.warn({ ...ctx, attempt, reason: error.message }, 'partner day rejected')
        else if (error.kind === 'unauthorized') log.error({ ...ctx, status: error.status }, error.message)
        if (!error.retryable || attempt >= maxAttempts) {
          if (error.retryable) log.warn({ ...ctx, attempts: attempt, kind: error.kind, status: error.status }, 'partner day failed after retries')
          return fail
        }
        const delay = backoff(attempt)
        log.debug({ ...ctx, attempt, kind: error.kind, status: error.status, retryInMs: Math.round(delay) }, 'partner attempt failed, retrying')
        await clock.sleep(delay, signal)
        signal?.throwIfAborted()
      }
    },
  }
}

/**
 * When the partner allows requests again. `rateLimitState.reset` is epoch ms
 * by contract; a value small enough to be epoch seconds is read as such.
 */
export function rateLimitResetAt(text: string, headers: Headers, now: number): number {
  let reset: number | undefined
  try {
    const r = (JSON.parse(text) as { rateLimitState?: { reset?: unknown } } | null)?.rateLimitState?.reset
    if (typeof r === 'number' && Number.isFinite(r) && r > 0) reset = r < 1e11 ? r * 1000 : r
  } catch {
    // No body or not JSON: fall through to the header.
  }
  const retryAfter = headers.get('retry-after')?.trim()
  if (reset === undefined && retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) reset = now + Number(retryAfter) * 1000
    else if (!Number.isNaN(Date.parse(retryAfter))) reset = Date.parse(retryAfter)
  }
  reset ??= now + DEFAULT_RATE_LIMIT_WAIT_MS
  if (reset <= now) reset = now + MIN_RATE_LIMIT_WAIT_MS
  return Math.min(reset, now + MAX_RATE_LIMIT_WAIT_MS)
}

function networkCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; name?: unknown } } | undefined)?.cause
  const code = cause?.code ?? cause?.name ?? (err as { name?: unknown } | undefined)?.name
  return typeof code === 'string' && /^[\w.-]{1,60}$/.test(code) ? code : 'unknown'
}

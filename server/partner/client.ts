import { systemClock, type Clock } from '../clock.ts'
import { PartnerError } from './errors.ts'
import { validateDayChunked, type PartnerSlot } from './schema.ts'
import { silentLogger, type Logger } from '../logger.ts'
import { inSpan, markFailed } from '../observability/tracing.ts'

/** How long a request may take before it is a failure (PARTNER_TIMEOUT_MS's default). */
export const DEFAULT_PARTNER_TIMEOUT_MS = 10_000

export interface PartnerClientOptions {
  baseUrl: string
  apiKey: string
  /** For the one HTTP request (the body read included), in real milliseconds. Default 10 000. */
  timeoutMs?: number
  /** A longer body is cut off and the day rejected (PARTNER_MAX_BODY_BYTES). Default 5 000 000. */
  maxBodyBytes?: number
  /** A day of more slots is rejected before it is validated (PARTNER_MAX_SLOTS). Default 2 000. */
  maxSlots?: number
  /** The longest a 429's reset may halt sending (PARTNER_MAX_HALT_S), in ms. Default 300 000. */
  maxHaltMs?: number
  /** Reads "now" for a 429's reset; the sandbox and the tests run on other clocks. */
  clock?: Clock
  logger?: Logger
}

/**
 * The client sends exactly one request per call and never waits: the sync
 * engine stamps each request into the shared budget window before calling,
 * the planner schedules a failed day again (through the window again), and a
 * 429 becomes a halt shared by every instance through the database.
 * `attempts` is therefore always 1; it stays because the worker logs it.
 */
export type FetchDayResult =
  | { ok: true; productId: number; date: string; slots: PartnerSlot[]; attempts: 1; latencyMs: number }
  | { ok: false; productId: number; date: string; error: PartnerError; attempts: 1; latencyMs: number }

export interface PartnerClient {
  /**
   * One day's inventory, validated whole. Partner problems come back as a
   * failure, never thrown; it rejects only when `signal` aborts.
   */
  fetchDay(productId: number, date: string, signal?: AbortSignal): Promise<FetchDayResult>
}

/** Without a usable `reset` or `Retry-After`, a 429 holds the client this long. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000
/** PARTNER_MAX_HALT_S's default: a reset further out is a partner bug, not obeyed literally. */
export const DEFAULT_MAX_HALT_MS = 300_000
/** A reset already past on our clock still pauses this long, so clock skew cannot make us hammer. */
const MIN_RATE_LIMIT_WAIT_MS = 1_000

type Answer = { ok: true; slots: PartnerSlot[]; status: number } | { ok: false; error: PartnerError }

export function createPartnerClient(opts: PartnerClientOptions): PartnerClient {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '')
  const apiKey = opts.apiKey
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PARTNER_TIMEOUT_MS
  const maxBodyBytes = opts.maxBodyBytes ?? 5_000_000
  const maxSlots = opts.maxSlots ?? 2_000
  const maxHaltMs = opts.maxHaltMs ?? DEFAULT_MAX_HALT_MS
  const clock = opts.clock ?? systemClock
  const log = opts.logger ?? silentLogger

  async function request(productId: number, date: string, signal?: AbortSignal): Promise<Answer> {
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
      const res = await fetch(url, { headers: { 'x-api-key': apiKey, accept: 'application/json' }, signal: ctrl.signal, redirect: 'manual' })
      const body = await readCapped(res, maxBodyBytes)
      if (!body.ok) return { ok: false, error: new PartnerError('invalid_response', body.reason, { status: res.status }) }
      return await interpret(res.status, res.headers, body.text, date)
    } catch (err) {
      signal?.throwIfAborted()
      if (timedOut) return { ok: false, error: new PartnerError('timeout', `partner did not answer within ${timeoutMs} ms`) }
      return { ok: false, error: new PartnerError('network', `partner connection failed (${networkCode(err)})`) }
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', forward)
    }
  }

  async function interpret(status: number, headers: Headers, text: string, date: string): Promise<Answer> {
    if (status === 200) {
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        return { ok: false, error: new PartnerError('invalid_response', `malformed JSON (${text.length} bytes)`, { status }) }
      }
      const v = await validateDayChunked(body, date, { maxSlots })
      if (!v.ok) return { ok: false, error: new PartnerError('invalid_response', `response breaks the contract: ${v.reason}`, { status }) }
      return { ok: true, slots: v.slots, status }
    }
    if (status === 429) {
      const retryAt = rateLimitResetAt(text, headers, clock.now(), maxHaltMs)
      return {
        ok: false,
        error: new PartnerError('rate_limited', `partner rate limit reached; allowed again at ${new Date(retryAt).toISOString()}`, { status, retryAt }),
      }
    }
    if (status === 401) return { ok: false, error: new PartnerError('unauthorized', 'partner rejected the API key (HTTP 401)', { status }) }
    return { ok: false, error: new PartnerError('http', `partner answered HTTP ${status}`, { status }) }
  }

  // One span per partner call (the HTTP request under it is undici's), with the partner's status and our verdict.
  async function traced(productId: number, date: string, signal?: AbortSignal): Promise<Answer> {
    return inSpan('partner fetchDay', { 'slotsync.product_id': productId, 'slotsync.date': date }, async (span) => {
      const r = await request(productId, date, signal)
      const status = r.ok ? r.status : r.error.status
      if (status !== undefined) span?.setAttribute('http.response.status_code', status)
      span?.setAttribute('slotsync.partner.outcome', r.ok ? 'ok' : r.error.kind)
      if (!r.ok) markFailed(span, r.error.message)
      return r
    })
  }

  return {
    async fetchDay(productId, date, signal) {
      const ctx = { productId, date }
      const t0 = performance.now()
      const r = await traced(productId, date, signal)
      const latencyMs = Math.round(performance.now() - t0)
      if (r.ok) {
        log.debug({ ...ctx, status: r.status, latencyMs, slots: r.slots.length }, 'partner day fetched')
        return { ok: true, ...ctx, slots: r.slots, attempts: 1, latencyMs }
      }
      const { error } = r
      if (error.kind === 'invalid_response') log.warn({ ...ctx, reason: error.message }, 'partner day rejected')
      else if (error.kind === 'rate_limited') log.warn({ ...ctx, resetAt: error.retryAt, waitMs: error.retryAt! - clock.now() }, 'partner rate limit hit')
      else if (error.kind === 'unauthorized') log.error({ ...ctx, status: error.status }, error.message)
      else log.debug({ ...ctx, kind: error.kind, status: error.status, latencyMs }, 'partner day failed')
      return { ok: false, ...ctx, error, attempts: 1, latencyMs }
    },
  }
}

/**
 * When the partner allows requests again, never more than `maxWaitMs` away
 * (a reset ten years out is a partner bug, and obeying it would stop every
 * instance). `rateLimitState.reset` is epoch ms by contract; a value read as
 * a date before 1973 or after 5138 must be in another unit: seconds or
 * microseconds when that makes it a date in range, else it is ignored.
 */
export function rateLimitResetAt(text: string, headers: Headers, now: number, maxWaitMs = DEFAULT_MAX_HALT_MS): number {
  let reset: number | undefined
  try {
    const r = (JSON.parse(text) as { rateLimitState?: { reset?: unknown } } | null)?.rateLimitState?.reset
    if (typeof r === 'number' && Number.isFinite(r) && r > 0) reset = r < 1e11 ? r * 1000 : r < 1e14 ? r : r < 1e17 ? r / 1000 : undefined
  } catch {
    // No body or not JSON: fall through to the header.
  }
  const retryAfter = headers.get('retry-after')?.trim()
  if (reset === undefined && retryAfter) {
    // Delay-seconds or an HTTP date (RFC 9110); a negative number is neither.
    if (/^\d+(\.\d+)?$/.test(retryAfter)) reset = now + Number(retryAfter) * 1000
    else if (/[a-z]/i.test(retryAfter) && !Number.isNaN(Date.parse(retryAfter))) reset = Date.parse(retryAfter)
  }
  reset ??= now + Math.min(DEFAULT_RATE_LIMIT_WAIT_MS, maxWaitMs)
  if (reset <= now) reset = now + Math.min(MIN_RATE_LIMIT_WAIT_MS, maxWaitMs)
  return Math.min(reset, now + maxWaitMs)
}

/**
 * The body as text, read as a stream and given up on as soon as it passes
 * `max` bytes (or announces more), so an oversized answer costs at most
 * `max` bytes of memory, not its own size.
 */
async function readCapped(res: Response, max: number): Promise<{ ok: true; text: string } | { ok: false; reason: string }> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN)
  if (declared > max) {
    await res.body?.cancel().catch(() => {})
    return { ok: false, reason: `body over ${max} bytes (Content-Length ${declared})` }
  }
  if (!res.body) return { ok: true, text: '' }
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > max) {
      await reader.cancel().catch(() => {})
      return { ok: false, reason: `body over ${max} bytes` }
    }
    chunks.push(value)
  }
  // TextDecoder, as res.text() does: invalid bytes become U+FFFD and a BOM is dropped.
  return { ok: true, text: new TextDecoder().decode(Buffer.concat(chunks, total)) }
}

function networkCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; name?: unknown } } | undefined)?.cause
  const code = cause?.code ?? cause?.name ?? (err as { name?: unknown } | undefined)?.name
  return typeof code === 'string' && /^[\w.-]{1,60}$/.test(code) ? code : 'unknown'
}

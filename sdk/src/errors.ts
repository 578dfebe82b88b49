import { TRPCClientError } from '@trpc/client'
import type { ErrorShape } from './generated/app-router.ts'

/** The codes the server answers with: its closed set, taken from the router's error shape. */
export type ServerErrorCode = ErrorShape['data']['appCode']

/**
 * Failures with no answer from slotsync: `NETWORK_ERROR` (connection refused,
 * DNS, TLS, an unreadable reply) or `ABORTED` (the caller's signal fired).
 */
export type ClientErrorCode = 'NETWORK_ERROR' | 'ABORTED'

export type SlotsyncErrorCode = ServerErrorCode | ClientErrorCode

interface SlotsyncErrorInit {
  code: SlotsyncErrorCode
  status?: number | undefined
  field?: string | undefined
  path?: string | undefined
  retryAfterMs?: number | undefined
  cause?: unknown
}

/**
 * The one error every SDK call rejects with, whatever went wrong: a server
 * answer (`code` is the server's code, `status` its HTTP status, `field` the
 * input field at fault) or no answer at all (`NETWORK_ERROR`, `ABORTED`).
 * The underlying error is kept as `cause`.
 */
export class SlotsyncError extends Error {
  override readonly name = 'SlotsyncError'
  readonly code: SlotsyncErrorCode
  /** The HTTP status of the answer; undefined when there was none. */
  readonly status: number | undefined
  /** The input field at fault (`productId`, `date`, `to`...), for `BAD_REQUEST`. */
  readonly field: string | undefined
  /** The procedure called, such as `availability.slots`. */
  readonly path: string | undefined
  /** How long the server asked to wait (`Retry-After`), if it did. */
  readonly retryAfterMs: number | undefined

  constructor(message: string, init: SlotsyncErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause })
    this.code = init.code
    this.status = init.status
    this.field = init.field
    this.path = init.path
    this.retryAfterMs = init.retryAfterMs
  }

  /**
   * Whether trying again may succeed: no answer, a timeout (408), rate
   * limited (429) or a server-side failure (5xx). Bad input, a missing
   * token or an unknown product will fail the same way again.
   */
  get retryable(): boolean {
    if (this.code === 'NETWORK_ERROR') return true
    const s = this.status ?? 0
    return s === 408 || s === 429 || s >= 500
  }
}

// An answer without slotsync's error body (a proxy in front, the HTTP layer's
// own rate limiter): the code follows from the status.
const CODE_BY_STATUS: Record<number, ServerErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  429: 'TOO_MANY_REQUESTS',
  502: 'SERVICE_UNAVAILABLE',
  503: 'SERVICE_UNAVAILABLE',
  504: 'SERVICE_UNAVAILABLE',
}

function codeForStatus(status: number): ServerErrorCode {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST')
}

interface ResponseLike {
  status: number
  headers?: { get(name: string): string | null }
}

/**
 * A reply that is not JSON, so not from slotsync (a proxy's 502 page):
 * thrown by the SDK's fetch wrapper because tRPC, failing to parse it,
 * would lose its status.
 */
export class ForeignReply extends Error {
  override name = 'ForeignReply'
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`HTTP ${status} with a body that is not slotsync's`)
  }
}

/** Anything a tRPC call rejected with → a SlotsyncError. */
export function toSlotsyncError(err: unknown, path: string, signal?: AbortSignal): SlotsyncError {
  if (err instanceof SlotsyncError) return err
  const cause = err instanceof TRPCClientError ? err.cause : err
  if (signal?.aborted || (cause instanceof Error && cause.name === 'AbortError')) {
    return new SlotsyncError(`${path}: the call was aborted`, { code: 'ABORTED', path, cause: err })
  }
  if (cause instanceof ForeignReply) {
    const code = codeForStatus(cause.status)
    return new SlotsyncError(`${path}: ${cause.message}`, { code, status: cause.status, path, retryAfterMs: cause.retryAfterMs, cause: err })
  }
  const trpc = err instanceof TRPCClientError ? (err as TRPCClientError<never>) : undefined
  const data = trpc?.data as Partial<ErrorShape['data']> | undefined
  const response = trpc?.meta?.response as ResponseLike | undefined
  const status = data?.httpStatus ?? response?.status
  const retryAfterMs = parseRetryAfter(response?.headers?.get('retry-after') ?? null)
  const message = err instanceof Error ? err.message : String(err)
  if (data?.appCode) {
    return new SlotsyncError(message, { code: data.appCode, status, field: data.field ?? undefined, path, retryAfterMs, cause: err })
  }
  if (status !== undefined) {
    const code = codeForStatus(status)
    // Refused before tRPC ran (the HTTP layer's rate limiter, body limits):
    // the body is the REST face's `{ error: { message } }`, tRPC's own message is noise.
    const rest = (trpc?.meta?.responseJSON as { error?: { message?: unknown } } | undefined)?.error?.message
    const text = typeof rest === 'string' ? rest : message
    return new SlotsyncError(`${path}: HTTP ${status}: ${text}`, { code, status, path, retryAfterMs, cause: err })
  }
  return new SlotsyncError(`${path}: no answer from slotsync: ${message}`, { code: 'NETWORK_ERROR', path, cause: err })
}

/** `Retry-After` is seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * Why one fetch of (product, date) from the partner failed. The client builds
 * every message itself from the status, the kind and the validation reason,
 * never from request data, so the API key cannot leak into a message.
 */
export const PARTNER_ERROR_KINDS = ['rate_limited', 'invalid_response', 'http', 'timeout', 'network', 'unauthorized'] as const
export type PartnerErrorKind = (typeof PARTNER_ERROR_KINDS)[number]

export interface PartnerErrorOptions {
  status?: number
  retryAt?: number
}

export class PartnerError extends Error {
  override name = 'PartnerError'
  readonly kind: PartnerErrorKind
  /** The HTTP status, when the partner answered at all. */
  readonly status?: number
  /** Epoch ms at which the partner accepts requests again (`rate_limited`). */
  readonly retryAt?: number

  constructor(kind: PartnerErrorKind, message: string, opts: PartnerErrorOptions = {}) {
    super(message)
    this.kind = kind
    if (opts.status !== undefined) this.status = opts.status
    if (opts.retryAt !== undefined) this.retryAt = opts.retryAt
  }
}

/**
 * OCTO's own error codes (docs/contracts/octo.md, "Errors"), a closed set
 * with its HTTP status in one table. The OCTO face answers
 * `{ error, errorMessage, ...extra }` instead of slotsync's `{ error: { code } }`.
 */
import { isDatabaseDown } from '../api/errors.ts'
import { AppError } from '../errors.ts'

export const OCTO_ERROR_STATUS = {
  BAD_REQUEST: 400,
  INVALID_PRODUCT_ID: 400,
  INVALID_OPTION_ID: 400,
  INVALID_UNIT_ID: 400,
  INVALID_AVAILABILITY_ID: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const
export type OctoErrorCode = keyof typeof OCTO_ERROR_STATUS

/** The id field OCTO adds to each INVALID_* body, named as the specification names it. */
type Extra = { productId: string } | { optionId: string } | { unitId: string } | { availabilityId: string }

export class OctoError extends Error {
  override name = 'OctoError'
  constructor(
    readonly code: OctoErrorCode,
    message: string,
    readonly extra?: Extra,
  ) {
    super(message)
  }
  get status(): number {
    return OCTO_ERROR_STATUS[this.code]
  }
}

export const badRequest = (message: string) => new OctoError('BAD_REQUEST', message)
export const invalidProduct = (productId: string) => new OctoError('INVALID_PRODUCT_ID', `unknown productId ${JSON.stringify(productId)}`, { productId })
export const invalidOption = (optionId: string) =>
  new OctoError('INVALID_OPTION_ID', `unknown optionId ${JSON.stringify(optionId)} (the only option is "DEFAULT")`, { optionId })
export const invalidUnit = (unitId: string) => new OctoError('INVALID_UNIT_ID', `unknown unit id ${JSON.stringify(unitId)} for this product`, { unitId })
export const invalidAvailability = (availabilityId: string) =>
  new OctoError(
    'INVALID_AVAILABILITY_ID',
    `unknown availabilityId ${JSON.stringify(availabilityId)} (an id is a slot's localDateTimeStart within the served 60 days)`,
    { availabilityId },
  )

export interface OctoErrorBody {
  error: OctoErrorCode
  errorMessage: string
  [extra: string]: string
}

/**
 * Anything thrown while answering → status and OCTO body. Fastify's own 4xx
 * (malformed JSON, body too large, unsupported media type) keep their status
 * as BAD_REQUEST, the rate limit's 429 as TOO_MANY_REQUESTS; a database
 * outage is 503; anything else is the server's fault and says nothing more.
 */
export function toOctoError(err: unknown): { status: number; body: OctoErrorBody } {
  if (err instanceof OctoError) return { status: err.status, body: { error: err.code, errorMessage: err.message, ...err.extra } }
  // The domain's own guards (a date it cannot read): still the client's input.
  if (err instanceof AppError && err.code === 'BAD_REQUEST') return { status: 400, body: { error: 'BAD_REQUEST', errorMessage: err.message } }
  const status = (err as { statusCode?: unknown } | null)?.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code: OctoErrorCode = status === 401 ? 'UNAUTHORIZED' : status === 404 ? 'NOT_FOUND' : status === 429 ? 'TOO_MANY_REQUESTS' : 'BAD_REQUEST'
    return { status, body: { error: code, errorMessage: (err as Error).message } }
  }
  // As on the REST face: the client did nothing wrong and a retry may succeed.
  if (isDatabaseDown(err)) return { status: 503, body: { error: 'SERVICE_UNAVAILABLE', errorMessage: 'the database is unavailable; try again shortly' } }
  return { status: 500, body: { error: 'INTERNAL_SERVER_ERROR', errorMessage: 'internal error' } }
}

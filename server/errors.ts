/**
 * The closed set of error codes slotsync answers with, on both faces (tRPC
 * and REST). api/errors.ts maps each to its HTTP status in one table.
 */
export const ERROR_CODES = ['BAD_REQUEST', 'UNAUTHORIZED', 'NOT_FOUND', 'TOO_MANY_REQUESTS', 'SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR'] as const
export type ErrorCode = (typeof ERROR_CODES)[number]

export class AppError extends Error {
  override name = 'AppError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The input field at fault, for BAD_REQUEST. */
    readonly field?: string,
  ) {
    super(message)
  }
}

export class BadRequestError extends AppError {
  override name = 'BadRequestError'
  constructor(field: string, message: string) {
    super('BAD_REQUEST', message.startsWith(field) ? message : `${field}: ${message}`, field)
  }
}

export class NotFoundError extends AppError {
  override name = 'NotFoundError'
  constructor(message: string) {
    super('NOT_FOUND', message)
  }
}

export class UnauthorizedError extends AppError {
  override name = 'UnauthorizedError'
  constructor(message = 'a valid admin bearer token is required') {
    super('UNAUTHORIZED', message)
  }
}

export class UnavailableError extends AppError {
  override name = 'UnavailableError'
  constructor(message = 'the database is unavailable; try again shortly') {
    super('SERVICE_UNAVAILABLE', message)
  }
}

/** 429 and 503 refusals of the API's own limits carry when to retry (the Retry-After header, seconds). */
export class TooManyRequestsError extends AppError {
  override name = 'TooManyRequestsError'
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super('TOO_MANY_REQUESTS', message)
  }
}

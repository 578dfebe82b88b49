import { TRPCError } from '@trpc/server'
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc'
import { ZodError } from 'zod'
import { sqlState } from '../db/transaction.ts'
import { AppError, type ErrorCode } from '../errors.ts'
import { fromRouteValidation, fromZodError } from './validation.ts'

/** The one code → HTTP status table, used by REST and by tRPC. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
}

export const TRPC_CODE: Record<ErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  NOT_FOUND: 'NOT_FOUND',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
}

// Connection-level failures of Postgres (server gone, refused, timed out),
// and a table or read function not there yet (42P01, 42883: a read-only
// instance whose database is still unmigrated): the client did nothing wrong
// and a retry may succeed, so 503, not 500.
const DB_DOWN_CODES = new Set([
  '42P01',
  '42883',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57014', // statement_timeout (DATABASE_STATEMENT_TIMEOUT_MS): too slow now, worth a retry
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
  'P1001',
  'P1017',
  'P2024',
])

export function isDatabaseDown(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && DB_DOWN_CODES.has(e.code)) return true
    // A raw query's failure is Prisma's P2010; the SQLSTATE is inside it.
    const state = sqlState(e)
    if (state && DB_DOWN_CODES.has(state)) return true
    if (
      typeof e.message === 'string' &&
      /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Query read timeout|Can't reach database server/i.test(e.message)
    )
      return true
  }
  return false
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string }
}

/**
 * The body for a 4xx that Fastify or Node raise before any route runs (bad
 * JSON, body too large, path too long, headers too large): the same shape as
 * every other error, the status kept.
 */
export function clientErrorBody(status: number, message: string): ErrorBody {
  const code: ErrorCode = status === 401 ? 'UNAUTHORIZED' : status === 404 ? 'NOT_FOUND' : status === 429 ? 'TOO_MANY_REQUESTS' : 'BAD_REQUEST'
  return { error: { code, message } }
}

// tRPC's own errors (malformed input JSON, unknown procedure, wrong method):
// the client's fault, folded into the closed set.
function fromTRPCCode(code: TRPC_ERROR_CODE_KEY): ErrorCode {
  switch (code) {
    case 'NOT_FOUND':
    case 'UNAUTHORIZED':
    case 'TOO_MANY_REQUESTS':
    case 'SERVICE_UNAVAILABLE':
    case 'INTERNAL_SERVER_ERROR':
      return code
    case 'FORBIDDEN':
      return 'UNAUTHORIZED'
    default:
      return 'BAD_REQUEST'
  }
}

/** Any thrown value → the public error (code, status, body). Internal details never leak. */
export function toPublicError(err: unknown): { status: number; body: ErrorBody } {
  let e: unknown = err
  if (e instanceof TRPCError) {
    if (e.cause instanceof AppError || e.cause instanceof ZodError || e.code === 'INTERNAL_SERVER_ERROR') e = e.cause ?? e
    else {
      const code = fromTRPCCode(e.code)
      return { status: HTTP_STATUS[code], body: { error: { code, message: e.message } } }
    }
  }
  if (e instanceof ZodError) e = fromZodError(e)
  e = fromRouteValidation(e) ?? e
  if (e instanceof AppError) {
    const body: ErrorBody = { error: { code: e.code, message: e.message } }
    if (e.field) body.error.field = e.field
    return { status: HTTP_STATUS[e.code], body }
  }
  if (isDatabaseDown(e)) {
    return { status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'the database is unavailable; try again shortly' } } }
  }
  return { status: 500, body: { error: { code: 'INTERNAL_SERVER_ERROR', message: 'internal error' } } }
}

/**
 * Anything → a TRPCError whose code (hence HTTP status) is the public one.
 * tRPC's own client errors (malformed input, unknown procedure) pass as they
 * are; an AppError, a zod error or a database outage gets its mapped code,
 * keeping the original as cause so the error formatter can name the field.
 */
export function toTRPCError(err: unknown): TRPCError {
  if (err instanceof TRPCError && err.code !== 'INTERNAL_SERVER_ERROR' && !(err.cause instanceof AppError) && !(err.cause instanceof ZodError)) return err
  const { body } = toPublicError(err)
  const cause = err instanceof TRPCError ? err.cause : err instanceof Error ? err : undefined
  return new TRPCError({ code: TRPC_CODE[body.error.code], message: body.error.message, cause })
}

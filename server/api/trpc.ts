import { timingSafeEqual, createHash } from 'node:crypto'
import { initTRPC } from '@trpc/server'
import { getHTTPStatusCodeFromError } from '@trpc/server/http'
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc'
import superjson from 'superjson'
import { TooManyRequestsError, UnauthorizedError } from '../errors.ts'
import { inSpan, markFailed, tracingOn } from '../observability/tracing.ts'
import type { AuthOutcome } from './client-limits.ts'
import { toPublicError, toTRPCError } from './errors.ts'
import type { ApiServices } from './services.ts'

export interface Context {
  services: ApiServices
  /** The raw `Authorization` header, if any. */
  authorization: string | undefined
  adminToken: string
  /** The request's id (x-request-id), for the audit trail; absent outside a request. */
  requestId?: string | undefined
  /** The client's address (Fastify's req.ip, TRUST_PROXY-aware), for per-client limits; absent outside a request. */
  clientIp?: string | undefined
  /**
   * The failed-authentication guard for this request's client (edge.ts).
   * Absent on REST's inner calls: the route checked the token through it already.
   */
  guard?: {
    verify(credential: string | undefined, valid: (credential: string) => boolean): AuthOutcome
    retryAfterS(): number
  }
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  // Subscriptions (availability.changes) over SSE: a comment line every 15 s
  // keeps proxies from closing a quiet stream, and a client that hears
  // nothing for 40 s reconnects (with its last event id) instead of waiting forever.
  sse: { ping: { enabled: true, intervalMs: 15_000 }, client: { reconnectAfterInactivityMs: 40_000 } },
  // Domain errors (AppError) thrown by services, zod input errors and database
  // outages get their public code and HTTP status here, once. (The status
  // tRPC sends is the shape's data.httpStatus.) A middleware doing the same on
  // every call cost ~8 µs per request, a tenth of a cached read.
  errorFormatter({ shape, error }) {
    const mapped = toTRPCError(error)
    const { body } = toPublicError(mapped)
    return {
      ...shape,
      code: TRPC_ERROR_CODES_BY_KEY[mapped.code],
      message: body.error.message,
      data: {
        ...shape.data,
        code: mapped.code,
        httpStatus: getHTTPStatusCodeFromError(mapped),
        appCode: body.error.code,
        field: body.error.field,
        stack: undefined,
      },
    }
  },
})

/**
 * A span per procedure call, named after its path (REST's inner calls
 * included). Chosen when this module loads: main.ts starts tracing first, and
 * without it procedures carry no extra middleware at all.
 */
function procedureSpan() {
  return t.middleware(({ path, type, next }) =>
    inSpan(`trpc ${path}`, { 'rpc.system': 'trpc', 'rpc.method': path, 'trpc.type': type }, async (span) => {
      const r = await next()
      if (!r.ok) markFailed(span, r.error.message)
      return r
    }),
  )
}

function sameToken(given: string, expected: string): boolean {
  // Hash first so the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

export const router = t.router
export const createCallerFactory = t.createCallerFactory
/**
 * Resolvers may throw AppError: the error formatter (tRPC face) and
 * toPublicError (REST face, createCaller) map it. A caller gets it as the
 * TRPCError's cause.
 */
export const publicProcedure = tracingOn() ? t.procedure.use(procedureSpan()) : t.procedure
/**
 * Throws unless the request carries the admin bearer token (REST checks it
 * before validating input, too). Through the guard, a wrong token counts as a
 * failed authentication of the client, and a client over its allowance is
 * refused (429) without the token being compared.
 */
export function assertAdmin(ctx: Pick<Context, 'authorization' | 'adminToken' | 'guard'>): void {
  const presented = ctx.authorization
  const valid = (authorization: string) => {
    const m = /^Bearer\s+(.+)$/i.exec(authorization)
    return m !== null && sameToken(m[1]!.trim(), ctx.adminToken)
  }
  const outcome: AuthOutcome = ctx.guard ? ctx.guard.verify(presented, valid) : presented === undefined ? 'missing' : valid(presented) ? 'ok' : 'denied'
  if (outcome === 'ok') return
  if (outcome === 'blocked') {
    const after = ctx.guard!.retryAfterS()
    throw new TooManyRequestsError(`too many failed authentications from this client address (AUTH_FAILURES_PER_MINUTE); retry in ${after} s`, after)
  }
  throw new UnauthorizedError()
}

export const adminProcedure = publicProcedure.use(({ ctx, next }) => {
  assertAdmin(ctx)
  return next({ ctx: { ...ctx, admin: true as const } })
})

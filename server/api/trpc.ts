import { timingSafeEqual, createHash } from 'node:crypto'
import { initTRPC } from '@trpc/server'
import superjson from 'superjson'
import { UnauthorizedError } from '../errors.ts'
import { toPublicError, toTRPCError } from './errors.ts'
import type { Services } from './services.ts'

export interface Context {
  services: Services
  /** The raw `Authorization` header, if any. */
  authorization: string | undefined
  adminToken: string
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const { body } = toPublicError(error)
    return { ...shape, message: body.error.message, data: { ...shape.data, appCode: body.error.code, field: body.error.field, stack: undefined } }
  },
})

// Domain errors (AppError) thrown by services become TRPCErrors with the same code.
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next()
  if (!result.ok) throw toTRPCError(result.error)
  return result
})

function sameToken(given: string, expected: string): boolean {
  // Hash first so the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

export const router = t.router
export const createCallerFactory = t.createCallerFactory
export const publicProcedure = t.procedure.use(mapErrors)
export const adminProcedure = publicProcedure.use(({ ctx, next }) => {
  const m = /^Bearer\s+(.+)$/i.exec(ctx.authorization ?? '')
  if (!m || !sameToken(m[1]!.trim(), ctx.adminToken)) throw new UnauthorizedError()
  return next({ ctx: { ...ctx, admin: true as const } })
})

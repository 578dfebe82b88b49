import type { inferRouterInputs } from '@trpc/server'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { BadRequestError } from '../errors.ts'
import { toPublicError } from './errors.ts'
import { stringify } from './json.ts'
import { responses } from './openapi.ts'
import { appRouter, type AppRouter } from './routers/index.ts'
import { liveSchema, productIdSchema, readySchema, runRequestSchema, runResultSchema, slotsInput, slotsResultSchema, datesResultSchema, syncStateSchema, syncStatusSchema, syncTargetInput } from './schemas.ts'
import { budgetHistorySchema, freshnessGridSchema } from './sync-read-schemas.ts'
import { createCallerFactory, type Context } from './trpc.ts'

/**
 * The REST face: each route hands its path, query and body to the tRPC
 * procedure of the same name through createCaller, and renders what it
 * returns or throws. Validation, auth and business rules live behind the
 * procedure, so the two faces cannot drift. The zod schemas on the routes
 * only describe them for OpenAPI; the procedure is what validates.
 */
export const createCaller = createCallerFactory(appRouter)
type Caller = ReturnType<typeof createCaller>
// Inputs go to the procedures unchecked on purpose: their zod schemas check them.
export type In = inferRouterInputs<AppRouter>

export interface RestOptions {
  context(headers: FastifyRequest['headers']): Context
}

/** Path segments are text; digits become a number for the procedure, anything else stays text so zod names it. */
export function pathInt(value: string | undefined): unknown {
  return value !== undefined && /^\d{1,16}$/.test(value) ? Number(value) : value
}

// REST names the product id `id` (its path segment) and the whole input `body`.
export type FieldNames = Record<string, string>

export function handler(opts: RestOptions, fields: FieldNames, call: (c: Caller, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) {
  // Most requests carry no credentials: one caller serves them all (callers hold no state).
  const anonymous = createCaller(opts.context({}))
  return async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      return await call(req.headers.authorization === undefined ? anonymous : createCaller(opts.context(req.headers)), req, reply)
    } catch (err) {
      return sendError(req, reply, err, fields)
    }
  }
}

/** Renders what a procedure threw, the field named as REST names it (`productIds.0` is renamed by its first segment). */
export function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown, fields: FieldNames) {
  const { status, body } = toPublicError(err)
  const field = body.error.field
  const renamed = field !== undefined ? (fields[field] ?? fields[field.split('.')[0]!]) : undefined
  if (renamed !== undefined && field !== undefined) {
    body.error.message = body.error.message.replace(field, renamed)
    body.error.field = renamed
  }
  if (status >= 500) req.log.error({ err }, 'request failed')
  return reply.status(status).send(body)
}

const query = (req: FastifyRequest) => req.query as Record<string, unknown>
const params = (req: FastifyRequest) => req.params as Record<string, string | undefined>

/** The documented REST routes under /api/v1. Register inside a scope of their own. */
export async function restRoutes(api: FastifyInstance, opts: RestOptions): Promise<void> {
  // Validation is the procedure's; fastify must not try to compile zod schemas.
  api.setValidatorCompiler(() => (data) => ({ value: data }))
  api.setSerializerCompiler(() => stringify)
  // Forgiving bodies for the sync POSTs: none, empty with any content type, or JSON.
  api.removeAllContentTypeParsers()
  api.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    const text = String(body)
    if (text.trim() === '') return done(null, undefined)
    try {
      done(null, JSON.parse(text))
    } catch {
      done(new BadRequestError('body', 'is not valid JSON'), undefined)
    }
  })

  const idField = { productId: 'id' }
  const idParams = z.object({ id: productIdSchema })
  api.get('/api/v1/experience/:id/slots', {
    schema: {
      tags: ['availability'],
      summary: "A day's slots with pax availability and prices",
      params: idParams,
      querystring: slotsInput.pick({ date: true }),
      response: responses(slotsResultSchema, 400, 404, 429, 503),
    },
    handler: handler(opts, idField, (c, req) => c.availability.slots({ productId: pathInt(params(req).id), date: query(req).date } as In['availability']['slots'])),
  })

  api.get('/api/v1/experience/:id/dates', {
    schema: {
      tags: ['availability'],
      summary: 'Days of the next 60 with something left, and their lowest price',
      params: idParams,
      response: responses(datesResultSchema, 400, 404, 429, 503),
    },
    handler: handler(opts, idField, (c, req) => c.availability.dates({ productId: pathInt(params(req).id) } as In['availability']['dates'])),
  })

  const bodyField = { input: 'body' }
  // Fastify gives null for a POST without a body; `null` sent as JSON is taken the same way.
  const body = (req: FastifyRequest) => req.body ?? undefined
  const admin = { tags: ['sync'], security: [{ bearerAuth: [] }] }
  api.post('/api/v1/sync/pause', {
    schema: { ...admin, summary: 'Pause scheduled fetching (all, or one product)', body: syncTargetInput, response: responses(syncStateSchema, 400, 401, 429, 503) },
    handler: handler(opts, bodyField, (c, req) => c.sync.pause(body(req) as In['sync']['pause'])),
  })
  api.post('/api/v1/sync/resume', {
    schema: { ...admin, summary: 'Resume scheduled fetching (all, or one product)', body: syncTargetInput, response: responses(syncStateSchema, 400, 401, 429, 503) },
    handler: handler(opts, bodyField, (c, req) => c.sync.resume(body(req) as In['sync']['resume'])),
  })
  api.post('/api/v1/sync/run', {
    schema: { ...admin, summary: 'Refresh now, ahead of schedule', body: runRequestSchema.optional(), response: responses(runResultSchema, 400, 401, 429, 503) },
    handler: handler(opts, bodyField, (c, req) => c.sync.run(body(req) as In['sync']['run'])),
  })
  api.get('/api/v1/sync/status', {
    schema: { tags: ['sync'], summary: 'Pause state, queue, freshness per tier, partner budget', response: responses(syncStatusSchema, 429, 503) },
    handler: handler(opts, {}, (c) => c.sync.status()),
  })
  api.get('/api/v1/sync/freshness', {
    schema: { tags: ['sync'], summary: 'Active products × the next 14 days: when each day was last fetched', response: responses(freshnessGridSchema, 429, 503) },
    handler: handler(opts, {}, (c) => c.sync.freshness()),
  })
  api.get('/api/v1/sync/budget-history', {
    schema: { tags: ['sync'], summary: 'Partner requests per minute over the last hour', response: responses(budgetHistorySchema, 429, 503) },
    handler: handler(opts, {}, (c) => c.sync.budgetHistory()),
  })
}

/** /health and /ready: outside the rate limit, so probes never see a 429. */
export async function healthRoutes(app: FastifyInstance, opts: RestOptions): Promise<void> {
  app.setValidatorCompiler(() => (data) => ({ value: data }))
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  app.get('/health', {
    schema: { tags: ['health'], summary: 'Liveness', response: responses(liveSchema) },
    handler: handler(opts, {}, (c) => c.health.live()),
  })
  app.get('/ready', {
    schema: { tags: ['health'], summary: 'Database reachable and migrations applied', response: { ...responses(readySchema), 503: { description: 'Not ready', content: { 'application/json': { schema: readySchema } } } } },
    handler: handler(opts, {}, async (c, _req, reply) => {
      const r = await c.health.ready()
      return reply.status(r.ready ? 200 : 503).send(r)
    }),
  })
}

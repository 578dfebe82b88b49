import { clientKey } from './client-limits.ts'
import type { FastifyInstance, FastifyRequest, preValidationHookHandler } from 'fastify'
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { BadRequestError, TooManyRequestsError } from '../errors.ts'
import { stringify } from './json.ts'
import { responses } from './openapi.ts'
import { productIdParams, runBody, slotsQuery, syncTargetBody } from './rest-schemas.ts'
import { appRouter } from './routers/index.ts'
import { liveSchema, readySchema, slotsResultSchema, datesResultSchema } from './schemas.ts'
import { runResultSchema, syncStateSchema, syncStatusSchema } from './sync-schemas.ts'
import { budgetHistorySchema, explainQuerySchema, explanationSchema, freshnessGridSchema } from './sync-read-schemas.ts'
import { assertAdmin, createCallerFactory, type Context } from './trpc.ts'

/**
 * The REST face: each route validates its path, query and body with the zod
 * schemas it documents (rest-schemas.ts; a failure becomes the contract's
 * error in validation.ts), then hands them to the tRPC procedure of the same
 * name through createCaller. Business rules and auth live behind the
 * procedure, so the two faces cannot drift; what a procedure throws reaches
 * the API's error handler (index.ts).
 *
 * The two availability reads are the exception: they call the service's
 * text form (slotsJson, datesJson) and send the stored JSON text inside the
 * answer's envelope. Through the procedure the text was parsed into values
 * only for the serializer to send the same text again, and the caller, its
 * input parse and the parse cost a fifth of a read (bench/RESULTS.md,
 * issue 15). The service holds the rules and errors for both forms;
 * tests/integration/api-http.test.ts holds the faces equal.
 */
export const createCaller = createCallerFactory(appRouter)
type Caller = ReturnType<typeof createCaller>

export interface RestOptions {
  /** With `req`, the context carries the auth guard bound to its client (see Context.guard). */
  context(headers: FastifyRequest['headers'], req?: FastifyRequest): Context
}

const JSON_TYPE = 'application/json; charset=utf-8'

/** A caller for one request; most carry no credentials and share one (callers hold no state). */
export function callers(opts: RestOptions): (req: FastifyRequest) => Caller {
  const anonymous = createCaller(opts.context({}))
  // The request id rides along for the audit trail (admin calls carry a token, so never the shared caller).
  return (req) => (req.headers.authorization === undefined ? anonymous : createCaller({ ...opts.context(req.headers), requestId: req.id }))
}

/**
 * Admin routes refuse a missing or wrong token before looking at the input,
 * as the procedures do: an anonymous caller learns nothing about the input
 * rules. The check goes through the client's auth guard (429 when over its
 * failed-authentication allowance, with Retry-After).
 */
export function adminOnly(opts: RestOptions): preValidationHookHandler {
  return (req, reply, done) => {
    const ctx = opts.context(req.headers, req)
    try {
      assertAdmin(ctx)
      done()
    } catch (err) {
      if (err instanceof TooManyRequestsError) reply.header('retry-after', err.retryAfterS)
      done(err as Error)
    }
  }
}

/** One scope's REST plumbing: zod validation and the cached JSON serializer (body parsing is restRoutes'). */
export function useRestCompilers(api: FastifyInstance): void {
  api.setValidatorCompiler(validatorCompiler)
  // Responses are the procedures' own typed values; the serializer reuses the text of cached (frozen) views.
  api.setSerializerCompiler(() => stringify)
}

/** The documented REST routes under /api/v1. Register inside a scope of their own. */
export async function restRoutes(fastify: FastifyInstance, opts: RestOptions): Promise<void> {
  useRestCompilers(fastify)
  const api = fastify.withTypeProvider<ZodTypeProvider>()
  const caller = callers(opts)
  const { availability } = opts.context({}).services
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

  api.get('/api/v1/experience/:id/slots', {
    schema: {
      tags: ['availability'],
      operationId: 'getSlots',
      summary: "A day's slots with pax availability and prices",
      params: productIdParams,
      querystring: slotsQuery,
      response: responses(slotsResultSchema, 400, 404, 429, 503),
    },
    handler: async (req, reply) => {
      const r = await availability.slotsJson(req.params.id, req.query.date, { maxAgeS: req.query.maxAge, client: clientKey(req.ip) })
      if (r.freshness.retryAfterS !== undefined) reply.header('retry-after', String(r.freshness.retryAfterS))
      // JSON.stringify's own text for { slots, freshness }: the stored text is JSON.stringify's (precompute.ts).
      return reply.type(JSON_TYPE).send(`{"slots":${r.slots},"freshness":${JSON.stringify(r.freshness)}}`)
    },
  })

  api.get('/api/v1/experience/:id/dates', {
    schema: {
      tags: ['availability'],
      operationId: 'getDates',
      summary: 'Days of the next 60 with something left, and their lowest price',
      params: productIdParams,
      response: responses(datesResultSchema, 400, 404, 429, 503),
    },
    handler: async (req, reply) => {
      const r = await availability.datesJson(req.params.id)
      // Field order and text as JSON.stringify writes the tRPC twin's object.
      return reply.type(JSON_TYPE).send(`{"dates":${r.dates},"pending":${JSON.stringify(r.pending)},"oldestFetchedAt":${JSON.stringify(r.oldestFetchedAt)}}`)
    },
  })

  const admin = { tags: ['sync'], security: [{ bearerAuth: [] }] }
  const preValidation = adminOnly(opts)
  api.post('/api/v1/sync/pause', {
    schema: {
      ...admin,
      operationId: 'pauseSync',
      summary: 'Pause scheduled fetching (all, or one product)',
      body: syncTargetBody,
      response: responses(syncStateSchema, 400, 401, 429, 503),
    },
    preValidation,
    handler: (req) => caller(req).sync.pause(req.body),
  })
  api.post('/api/v1/sync/resume', {
    schema: {
      ...admin,
      operationId: 'resumeSync',
      summary: 'Resume scheduled fetching (all, or one product)',
      body: syncTargetBody,
      response: responses(syncStateSchema, 400, 401, 429, 503),
    },
    preValidation,
    handler: (req) => caller(req).sync.resume(req.body),
  })
  api.post('/api/v1/sync/run', {
    schema: {
      ...admin,
      operationId: 'runSync',
      summary: 'Refresh now, ahead of schedule',
      body: runBody,
      response: responses(runResultSchema, 400, 401, 429, 503),
    },
    preValidation,
    handler: (req) => caller(req).sync.run(req.body),
  })
  api.get('/api/v1/sync/status', {
    schema: {
      tags: ['sync'],
      operationId: 'getSyncStatus',
      summary: 'Pause state, queue, freshness per tier, partner budget',
      response: responses(syncStatusSchema, 429, 503),
    },
    handler: (req) => caller(req).sync.status(),
  })
  api.get('/api/v1/sync/freshness', {
    schema: {
      tags: ['sync'],
      operationId: 'getSyncFreshness',
      summary: 'Active products × the next 14 days: when each day was last fetched',
      response: responses(freshnessGridSchema, 429, 503),
    },
    handler: (req) => caller(req).sync.freshness(),
  })
  api.get('/api/v1/sync/explain', {
    schema: {
      operationId: 'explainSyncDay',
      tags: ['sync'],
      summary: 'Why one (product, date) is where it is: last fetch, outcome, when it is next sent and why, its rank',
      querystring: explainQuerySchema,
      response: responses(explanationSchema, 400, 404, 429, 503),
    },
    handler: (req) => caller(req).sync.explain(req.query as { productId: number; date: string }),
  })
  api.get('/api/v1/sync/budget-history', {
    schema: {
      tags: ['sync'],
      operationId: 'getBudgetHistory',
      summary: 'Partner requests per minute over the last hour',
      response: responses(budgetHistorySchema, 429, 503),
    },
    handler: (req) => caller(req).sync.budgetHistory(),
  })
}

/** /health and /ready: outside the rate limit, so probes never see a 429. */
export async function healthRoutes(app: FastifyInstance, opts: RestOptions): Promise<void> {
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  const caller = callers(opts)
  app.get('/health', {
    schema: {
      tags: ['health'],
      operationId: 'getLiveness',
      summary: 'Liveness: 503 only when the service cannot heal itself',
      response: { ...responses(liveSchema), 503: { description: 'Not live: restart the service', content: { 'application/json': { schema: liveSchema } } } },
    },
    handler: async (req, reply) => {
      const r = await caller(req).health.live()
      return r.ok ? r : reply.status(503).send(r)
    },
  })
  app.get('/ready', {
    schema: {
      tags: ['health'],
      operationId: 'getReadiness',
      summary: 'Database reachable and migrations applied',
      response: { ...responses(readySchema), 503: { description: 'Not ready', content: { 'application/json': { schema: readySchema } } } },
    },
    handler: async (req, reply) => {
      const r = await caller(req).health.ready()
      return r.ready ? r : reply.status(503).send(r)
    },
  })
}

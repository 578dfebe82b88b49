import cors, { type FastifyCorsOptions } from '@fastify/cors'
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { DEFAULT_EDGE_LIMITS, type EdgeLimits } from '../config.ts'
import { TooManyRequestsError } from '../errors.ts'
import { REQUEST_ID_HEADER } from '../http.ts'
import { nameHttpSpan, tracingOn } from '../observability/tracing.ts'
import { type AuthGuard, clientKey, createAuthGuard, createStreamSlots, type StreamSlots } from './client-limits.ts'
import { createEdge } from './edge.ts'
import { clientErrorBody, toPublicError } from './errors.ts'
import { withFirstPass } from './first-pass.ts'
import { swaggerOptions } from './openapi.ts'
import { changesRoute } from './rest-changes.ts'
import { productRoutes } from './rest-products.ts'
import { auditRoute } from './rest-audit.ts'
import { healthRoutes, restRoutes } from './rest.ts'
import { appRouter, type AppRouter } from './routers/index.ts'
import type { ApiServices, Services } from './services.ts'
import { shareExpensiveReads } from './shared-read.ts'
import type { Context } from './trpc.ts'

export interface ApiOptions {
  services: Services
  adminToken: string
  /** Requests per minute per client IP on /api/v1 and /trpc (not /health, /ready, /docs); each procedure of a tRPC batch counts. */
  rateLimitPerMinute?: number
  /** A request answered 503 (database unavailable or too slow): the database monitor takes a look. */
  onUnavailable?: (err: unknown) => void
  /** Batch size, stream and failed-authentication limits (config.edge); default: the documented defaults. */
  edge?: Partial<EdgeLimits>
  /** Failed authentications, shared with the OCTO face so both count together; default: one of the API's own. */
  authGuard?: AuthGuard
  /** Open change streams, shared with the metrics' gauge; default: the API's own. */
  streams?: StreamSlots
  /** How long sync status and the dashboard's sync reads are shared by every caller (API_CACHE_TTL_MS); default 1000. */
  sharedReadTtlMs?: number
  /** The partner budget's window (the sync budget's windowMs), for the first pass' pace before one is observed; default 61 s. */
  budgetWindowMs?: number
  /** Epoch ms for the first pass' estimate (the instance's clock); default Date.now. */
  now?: () => number
  /** Origins a browser may call from (CORS_ORIGINS); default none: no CORS headers, no preflight route. */
  corsOrigins?: readonly string[]
}

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 6000
const DEFAULT_SHARED_READ_TTL_MS = 1000

type Headers = Record<string, string | string[] | undefined>

/**
 * Mounts the public API: tRPC at /trpc, the REST face under /api/v1 (both
 * rate limited per client IP), /health and /ready, the OpenAPI document at
 * /openapi.json with Swagger UI at /docs, security headers, and the JSON 404
 * and error handlers.
 */
export async function registerApi(app: FastifyInstance, opts: ApiOptions): Promise<{ services: ApiServices }> {
  const limits = { ...DEFAULT_EDGE_LIMITS, ...opts.edge }
  const edge = createEdge({
    rateLimitPerMinute: opts.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE,
    maxBatch: limits.maxBatch,
    streams: opts.streams ?? createStreamSlots({ max: limits.maxStreams, maxPerClient: limits.maxStreamsPerClient }),
    authGuard: opts.authGuard ?? createAuthGuard({ failuresPerMinute: limits.authFailuresPerMinute }),
  })
  const services = withFirstPass(shareExpensiveReads(opts.services, opts.sharedReadTtlMs ?? DEFAULT_SHARED_READ_TTL_MS), {
    budgetWindowMs: opts.budgetWindowMs ?? 61_000,
    now: opts.now ?? Date.now,
  })
  const context = (headers: Headers, req?: FastifyRequest): Context => ({
    services,
    authorization: typeof headers.authorization === 'string' ? headers.authorization : undefined,
    adminToken: opts.adminToken,
    requestId: req?.id,
    clientIp: req ? clientKey(req.ip) : undefined,
    ...(req
      ? { guard: { verify: (credential, valid) => edge.verify(req, credential, valid), retryAfterS: () => edge.retryAfterS(req) } satisfies Context['guard'] }
      : {}),
  })
  const restOpts = { context }

  // Before any register: child scopes copy the handlers when they are created.
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } })
  })
  app.setErrorHandler((err, req, reply) => {
    // Fastify's own 4xx (bad JSON body, too large, rate limited) keep their status; a route's
    // input validation (also a 400 to Fastify) names its field through toPublicError.
    const status = (err as { statusCode?: number }).statusCode
    if (status && status >= 400 && status < 500 && !hasZodFastifySchemaValidationErrors(err)) {
      return reply.status(status).send(clientErrorBody(status, (err as Error).message))
    }
    const { status: s, body } = toPublicError(err)
    if (s === 503) {
      // An outage is logged once when it starts and once when it ends (db/db-monitor.ts), not with a stack per request.
      req.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'request answered 503')
      opts.onUnavailable?.(err)
    } else if (s >= 500) req.log.error({ err }, 'request failed')
    return reply.status(s).send(body)
  })

  // @fastify/helmet builds helmet's middleware anew on every request, which
  // cost a third of a bare route's throughput (bench/api.ts). The headers are
  // the same every time, so they are taken from it once and set in one hook.
  const securityHeaders = await helmetHeaders()
  app.addHook('onRequest', (req, reply, done) => {
    reply.headers(securityHeaders)
    reply.header(REQUEST_ID_HEADER, req.id)
    done()
  })
  // The HTTP server span is named after the route, not the URL (one name per route, ids out of it).
  if (tracingOn())
    app.addHook('onRequest', (req, _reply, done) => {
      nameHttpSpan(req.method, req.routeOptions.url, req.id)
      done()
    })
  if (opts.corsOrigins?.length) await app.register(cors, corsOptions(opts.corsOrigins))
  // Swagger collects the routes registered after it; only tagged (REST) routes are documented.
  await app.register(swagger, swaggerOptions)
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  await app.register(healthRoutes, restOpts)
  await app.register(async (api) => {
    // Per client address: the batch cap, the read allowance (a tRPC batch
    // costs one unit per procedure) and change-stream slots (edge.ts).
    api.addHook('onRequest', edge.onRequest)
    await api.register(fastifyTRPCPlugin, {
      prefix: '/trpc',
      trpcOptions: {
        router: appRouter,
        createContext: ({ req }) => context(req.headers, req),
        // A client over its failed-authentication allowance is told when to try again, as on REST.
        responseMeta({ errors }) {
          const after = errors.map((e) => e.cause).find((c) => c instanceof TooManyRequestsError)?.retryAfterS
          return after ? { headers: { 'retry-after': String(after) } } : {}
        },
      } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
    })
    // One scope: the product and change routes use the REST scope's validator, serializer and body parsing.
    await api.register(async (rest) => {
      await restRoutes(rest, restOpts)
      await productRoutes(rest, restOpts)
      await changesRoute(rest, restOpts)
      await auditRoute(rest, restOpts)
    })
  })
  // The shared reads, for other faces (the /metrics scrape) to read through the same single flight.
  return { services }
}

/**
 * Browsers on the listed origins may call every route (REST, tRPC, the change
 * streams): a preflight from one of them answers 204 with what follows; from
 * any other origin, 404 without a CORS header (so the browser refuses).
 */
export function corsOptions(origins: readonly string[]): FastifyCorsOptions {
  const allowed = new Set(origins)
  return {
    // `false` for any other origin: no CORS headers at all, and its preflight is an ordinary 404.
    origin: (origin, cb) => cb(null, origin !== undefined && allowed.has(origin) ? origin : false),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    // The SDK's headers (the token, JSON bodies), a caller's own request id, and EventSource's resume header.
    allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'last-event-id'],
    exposedHeaders: [REQUEST_ID_HEADER, 'retry-after'],
    maxAge: 600,
  }
}

const HELMET_OPTIONS: FastifyHelmetOptions = {
  // Plain-HTTP deployments (local, behind a TLS proxy) would have /docs' assets rewritten to https and fail.
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
}

/** The security headers @fastify/helmet sets, read once from a probe request. */
async function helmetHeaders(): Promise<Record<string, string>> {
  const probe = Fastify({ logger: false })
  try {
    await probe.register(helmet, HELMET_OPTIONS)
    probe.get('/', async () => '')
    const res = await probe.inject({ url: '/' })
    const ordinary = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive'])
    return Object.fromEntries(Object.entries(res.headers).filter(([k, v]) => !ordinary.has(k) && typeof v === 'string')) as Record<string, string>
  } finally {
    await probe.close()
  }
}

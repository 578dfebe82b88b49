import helmet, { type FastifyHelmetOptions } from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify'
import Fastify, { type FastifyInstance } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { clientErrorBody, toPublicError } from './errors.ts'
import { swaggerOptions } from './openapi.ts'
import { changesRoute } from './rest-changes.ts'
import { productRoutes } from './rest-products.ts'
import { healthRoutes, restRoutes } from './rest.ts'
import { appRouter, type AppRouter } from './routers/index.ts'
import type { Services } from './services.ts'
import type { Context } from './trpc.ts'

export interface ApiOptions {
  services: Services
  adminToken: string
  /** Requests per minute per client IP on /api/v1 and /trpc (not /health, /ready, /docs). */
  rateLimitPerMinute?: number
  /** A request answered 503 (database unavailable or too slow): the database monitor takes a look. */
  onUnavailable?: (err: unknown) => void
}

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 6000

type Headers = Record<string, string | string[] | undefined>

/**
 * Mounts the public API: tRPC at /trpc, the REST face under /api/v1 (both
 * rate limited per client IP), /health and /ready, the OpenAPI document at
 * /openapi.json with Swagger UI at /docs, security headers, and the JSON 404
 * and error handlers.
 */
export async function registerApi(app: FastifyInstance, opts: ApiOptions): Promise<void> {
  const context = (headers: Headers): Context => ({
    services: opts.services,
    authorization: typeof headers.authorization === 'string' ? headers.authorization : undefined,
    adminToken: opts.adminToken,
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
  app.addHook('onRequest', (_req, reply, done) => {
    reply.headers(securityHeaders)
    done()
  })
  // Swagger collects the routes registered after it; only tagged (REST) routes are documented.
  await app.register(swagger, swaggerOptions)
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  await app.register(healthRoutes, restOpts)
  await app.register(async (api) => {
    await api.register(rateLimit, { max: opts.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE, timeWindow: 60_000 })
    await api.register(fastifyTRPCPlugin, {
      prefix: '/trpc',
      trpcOptions: { router: appRouter, createContext: ({ req }) => context(req.headers) } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
    })
    // One scope: the product and change routes use the REST scope's validator, serializer and body parsing.
    await api.register(async (rest) => {
      await restRoutes(rest, restOpts)
      await productRoutes(rest, restOpts)
      await changesRoute(rest, restOpts)
    })
  })
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

import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { type AuthGuard, clientKey, createAuthGuard } from '../api/client-limits.ts'
import { DEFAULT_EDGE_LIMITS } from '../config.ts'
import { createOctoAnswers, type OctoLive, type OctoReads, type SupplierInfo } from './answers.ts'
import { createKeyCheck } from './auth.ts'
import { OCTO_DOCS } from './docs.ts'
import { OctoError, toOctoError } from './errors.ts'
import { appliedCapabilities } from './requests.ts'

export interface OctoRouteOptions {
  availability: OctoReads
  /** One-day availability as a live check (octo.md "Freshness for resellers"); absent: always the stored day. */
  live?: OctoLive | undefined
  /** OCTO_API_KEYS: at least one. */
  apiKeys: readonly string[]
  /**
   * The base URL clients use (supplier.endpoint = it + /octo): PUBLIC_URL, or
   * the address the server listens on. A function, since that address is
   * known only after listen(). Never taken from a request's Host header: a
   * forged Host would otherwise be echoed to resellers as the endpoint.
   */
  publicUrl: string | (() => string)
  supplier?: SupplierInfo
  /** Requests per minute per client IP (API_RATE_LIMIT_PER_MINUTE, as the REST face); unset: no limit. */
  rateLimitPerMinute?: number
  /** Failed key checks per client (AUTH_FAILURES_PER_MINUTE), shared with the admin API's; default: one of its own. */
  authGuard?: AuthGuard
}

/**
 * The OCTO face under /octo: bearer keys, the Octo-Capabilities headers and
 * OCTO error bodies. Register it only when keys are configured (without it,
 * every /octo/* route is the app's 404). An encapsulated plugin: its hooks,
 * error handler and body handling touch no other route.
 */
export async function octoRoutes(app: FastifyInstance, opts: OctoRouteOptions): Promise<void> {
  const keys = createKeyCheck(opts.apiKeys)
  const guard = opts.authGuard ?? createAuthGuard({ failuresPerMinute: DEFAULT_EDGE_LIMITS.authFailuresPerMinute })
  const answers = createOctoAnswers(opts.availability, opts.supplier, opts.live)

  // The zod schemas on the routes are for /openapi.json only: answers.ts validates, with OCTO's codes.
  app.setValidatorCompiler(() => (data) => ({ value: data }))
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))

  // Counted in onRequest (its route-level hook), before the key check below,
  // so guessing keys is limited too.
  if (opts.rateLimitPerMinute) await app.register(rateLimit, { max: opts.rateLimitPerMinute, timeWindow: 60_000 })

  // The capabilities applied to this answer, on every answer (errors too).
  const caps = (req: FastifyRequest) => appliedCapabilities(req.headers['octo-capabilities'])
  app.addHook('onRequest', async (req, reply) => {
    reply.header('octo-capabilities', caps(req).join(', '))
  })
  // preParsing: after the rate limit, before any body is read. The key is
  // never logged or echoed: the message says only what is wrong. A client
  // over its failed-authentication allowance is refused without a comparison.
  app.addHook('preParsing', async (req, reply, payload) => {
    const client = clientKey(req.ip)
    const outcome = guard.verify(client, req.headers.authorization, (h) => keys.accepts(h))
    if (outcome === 'blocked') {
      const after = guard.retryAfterS(client)
      reply.header('retry-after', after)
      throw new OctoError('TOO_MANY_REQUESTS', `too many failed authentications from this client address (AUTH_FAILURES_PER_MINUTE); retry in ${after} s`)
    }
    if (outcome !== 'ok') throw new OctoError('UNAUTHORIZED', 'a valid OCTO API key is required: Authorization: Bearer <key>')
    return payload
  })

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toOctoError(err)
    if (status >= 500) req.log.error({ err, url: req.url.split('?')[0] }, 'OCTO request failed')
    return reply.status(status).send(body)
  })

  const publicUrl = opts.publicUrl
  const endpoint = () => `${typeof publicUrl === 'function' ? publicUrl() : publicUrl}/octo`

  app.get('/octo/supplier', { schema: OCTO_DOCS.supplier }, async () => answers.supplier(endpoint()))
  app.get('/octo/products', { schema: OCTO_DOCS.products }, async (req) => answers.products(caps(req)))
  app.get('/octo/products/:id', { schema: OCTO_DOCS.product }, async (req) => answers.product((req.params as { id: string }).id, caps(req)))
  app.post('/octo/availability/calendar', { schema: OCTO_DOCS.calendar }, async (req) => answers.calendar(req.body, caps(req)))
  app.post('/octo/availability', { schema: OCTO_DOCS.availability }, async (req, reply) => {
    const r = await answers.availabilityAnswer(req.body, caps(req), clientKey(req.ip))
    // OCTO has no stale flag: the header says how old the answer is (the oldest day's fetch; "never" when none was fetched).
    reply.header('slotsync-fetched-at', r.fetchedAt === null ? 'never' : new Date(r.fetchedAt).toISOString())
    return r.body
  })
}

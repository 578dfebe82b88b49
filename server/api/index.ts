import type { FastifyInstance } from 'fastify'
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify'
import { toPublicError } from './errors.ts'
import { appRouter, type AppRouter } from './routers/index.ts'
import type { Context } from './trpc.ts'
import type { Services } from './services.ts'

export interface ApiOptions {
  services: Services
  adminToken: string
}

/** Mounts the tRPC router at /trpc and the REST face beside it. */
export async function registerApi(app: FastifyInstance, opts: ApiOptions): Promise<void> {
  const createContext = ({ req }: { req: { headers: Record<string, string | string[] | undefined> } }): Context => ({
    services: opts.services,
    authorization: typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined,
    adminToken: opts.adminToken,
  })
  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: { router: appRouter, createContext } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  })

  app.get('/health', async () => ({ ok: true }))
  app.get('/ready', async (_req, reply) => {
    const r = await opts.services.health.ready()
    return reply.status(r.ready ? 200 : 503).send(r)
  })

  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } })
  })
  app.setErrorHandler((err, req, reply) => {
    // Fastify's own 4xx (bad JSON body, too large) keep their status.
    const status = (err as { statusCode?: number }).statusCode
    if (status && status >= 400 && status < 500) {
      return reply.status(status).send({ error: { code: status === 404 ? 'NOT_FOUND' : status === 429 ? 'TOO_MANY_REQUESTS' : 'BAD_REQUEST', message: (err as Error).message } })
    }
    const { status: s, body } = toPublicError(err)
    if (s >= 500) req.log.error({ err }, 'request failed')
    return reply.status(s).send(body)
  })
}

import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { auditQuery, auditResultSchema } from './audit-schemas.ts'
import { responses } from './openapi.ts'
import { adminOnly, callers, type RestOptions } from './rest.ts'

/** `GET /api/v1/audit` (admin token): the REST twin of admin.audit. Registered in the REST scope. */
export async function auditRoute(fastify: FastifyInstance, opts: RestOptions): Promise<void> {
  const caller = callers(opts)
  fastify.withTypeProvider<ZodTypeProvider>().get('/api/v1/audit', {
    schema: {
      tags: ['sync'],
      operationId: 'listAdminActions',
      security: [{ bearerAuth: [] }],
      summary: 'The last admin actions (pause, resume, run, product changes), newest first: who, what, when, which request',
      querystring: auditQuery,
      response: responses(auditResultSchema, 400, 401, 429, 503),
    },
    preValidation: adminOnly(opts),
    handler: (req) => caller(req).admin.audit(req.query.limit === undefined ? undefined : { limit: req.query.limit }),
  })
}

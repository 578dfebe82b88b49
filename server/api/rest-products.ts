import type { FastifyInstance, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { responses } from './openapi.ts'
import { handler, pathInt, type In, type RestOptions } from './rest.ts'
import { productIdSchema, productRemovedSchema, productSchema, productsResultSchema, timeZoneSchema } from './schemas.ts'

/** Catalogue management (admin token): the REST twins of products.list / upsert / remove. */
export async function productRoutes(api: FastifyInstance, opts: RestOptions): Promise<void> {
  const admin = { tags: ['products'], security: [{ bearerAuth: [] }] }
  const idParams = z.object({ id: productIdSchema })
  // REST names the product id `id` (its path segment) and the whole input `body`.
  const fields = { productId: 'id', input: 'body' }
  const id = (req: FastifyRequest) => pathInt((req.params as { id?: string }).id)

  api.get('/api/v1/products', {
    schema: { ...admin, summary: 'Every product slotsync syncs, with its last success and error', response: responses(productsResultSchema, 401, 429, 503) },
    handler: handler(opts, {}, (c) => c.products.list()),
  })

  api.put('/api/v1/products/:id', {
    schema: {
      ...admin,
      summary: 'Add a product (fetched today first) or change its time zone; idempotent',
      params: idParams,
      body: z.object({ timeZone: timeZoneSchema.optional() }).optional(),
      response: responses(productSchema, 400, 401, 429, 503),
    },
    handler: handler(opts, fields, (c, req) => {
      // No body means "no changes besides adding"; a non-object body is handed on for zod to refuse, naming `body`.
      const body = req.body ?? undefined
      const input = body === undefined ? { productId: id(req) } : isPlainObject(body) ? { ...body, productId: id(req) } : body
      return c.products.upsert(input as In['products']['upsert'])
    }),
  })

  api.delete('/api/v1/products/:id', {
    schema: {
      ...admin,
      summary: 'Stop syncing a product and delete everything stored for it, at once',
      params: idParams,
      response: responses(productRemovedSchema, 400, 401, 404, 429, 503),
    },
    handler: handler(opts, fields, (c, req) => c.products.remove({ productId: id(req) } as In['products']['remove'])),
  })
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

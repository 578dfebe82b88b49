import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { responses } from './openapi.ts'
import { adminOnly, callers, type RestOptions } from './rest.ts'
import { productIdParams, productUpsertBody } from './rest-schemas.ts'
import { productRemovedSchema, productSchema, productsResultSchema } from './schemas.ts'

/** Catalogue management (admin token): the REST twins of products.list / upsert / remove. Registered in the REST scope (its compilers and body parsing). */
export async function productRoutes(fastify: FastifyInstance, opts: RestOptions): Promise<void> {
  const api = fastify.withTypeProvider<ZodTypeProvider>()
  const caller = callers(opts)
  const admin = { tags: ['products'], security: [{ bearerAuth: [] }] }
  const preValidation = adminOnly(opts)

  api.get('/api/v1/products', {
    schema: {
      ...admin,
      operationId: 'listProducts',
      summary: 'Every product slotsync syncs, with its last success and error',
      response: responses(productsResultSchema, 401, 429, 503),
    },
    preValidation,
    handler: (req) => caller(req).products.list(),
  })

  api.put('/api/v1/products/:id', {
    schema: {
      ...admin,
      operationId: 'upsertProduct',
      summary: 'Add a product (fetched today first) or change its time zone; idempotent',
      params: productIdParams,
      body: productUpsertBody,
      response: responses(productSchema, 400, 401, 429, 503),
    },
    preValidation,
    // No body means "no changes besides adding".
    handler: (req) => caller(req).products.upsert({ ...req.body, productId: req.params.id }),
  })

  api.delete('/api/v1/products/:id', {
    schema: {
      ...admin,
      operationId: 'removeProduct',
      summary: 'Stop syncing a product and delete everything stored for it, at once',
      params: productIdParams,
      response: responses(productRemovedSchema, 400, 401, 404, 429, 503),
    },
    preValidation,
    handler: (req) => caller(req).products.remove({ productId: req.params.id }),
  })
}

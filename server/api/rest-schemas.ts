import { z } from 'zod'
import {
  eventIdSchema,
  maxAgeSchema,
  productIdListSchema,
  productIdSchema,
  productUpsertInput,
  runRequestSchema,
  slotsInput,
  syncTargetInput,
} from './schemas.ts'

/**
 * What the REST routes validate (fastify-type-provider-zod's validatorCompiler)
 * and document (OpenAPI): the procedures' own schemas, reshaped only where
 * HTTP hands the input over differently. Each is at least as strict as the
 * procedure it feeds, so bad input is refused here, named as REST names it.
 */

/** Path segments are text: digits become a number, anything else stays text so the schema refuses it by name. */
const pathInt = (value: unknown) => (typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value)

export const productIdParams = z.object({ id: z.preprocess(pathInt, productIdSchema) })

export const slotsQuery = z.object({ date: slotsInput.shape.date, maxAge: z.preprocess(pathInt, maxAgeSchema).optional() })

/**
 * A POST or PUT without a body reaches the validator as null, as does a JSON
 * `null`: both mean "nothing given", like an empty body.
 */
const orNothing = <T extends z.ZodType>(schema: T) => z.preprocess((v) => v ?? undefined, schema)

export const syncTargetBody = orNothing(syncTargetInput)
export const runBody = orNothing(runRequestSchema.optional())
export const productUpsertBody = orNothing(productUpsertInput.omit({ productId: true }).optional())

export const changesQuery = z.object({
  // A repeated parameter arrives as a list, a single one as text.
  productId: z
    .preprocess((v) => (v === undefined ? v : (Array.isArray(v) ? v : [v]).map(pathInt)), productIdListSchema.optional())
    .meta({ description: 'Only these products (repeat the parameter for several)' }),
  lastEventId: eventIdSchema.optional().meta({ description: 'For clients that cannot send the Last-Event-ID header' }),
})

// Loose: only this header is checked; the others (authorization, ...) are not this route's to refuse.
export const changesHeaders = z.looseObject({ 'last-event-id': eventIdSchema.optional() })

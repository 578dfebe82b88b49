import Fastify from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { toPublicError } from '../../server/api/errors.ts'
import { useRestCompilers } from '../../server/api/rest.ts'
import { changesHeaders, changesQuery, productIdParams, runBody, slotsQuery } from '../../server/api/rest-schemas.ts'
import { runRequestSchema, slotsInput } from '../../server/api/schemas.ts'
import { fieldOf, fromZodError, type InputPart } from '../../server/api/validation.ts'

describe('fieldOf: which field a zod issue names, by where the input came from', () => {
  it.each<[InputPart, PropertyKey[], string]>([
    ['input', [], 'input'],
    ['input', ['productIds', 1], 'productIds.1'],
    ['body', [], 'body'],
    ['body', ['to'], 'to'],
    ['params', ['id'], 'id'],
    ['querystring', ['productId', 1], 'productId'],
    ['headers', ['last-event-id'], 'Last-Event-ID'],
  ])('%s at %j → %s', (part, path, field) => {
    expect(fieldOf({ code: 'custom', path, message: 'x' }, part)).toBe(field)
  })

  it('names an unknown key itself, not the object holding it', () => {
    expect(fieldOf({ code: 'unrecognized_keys', path: [], keys: ['productID'], message: 'is not a known field' }, 'body')).toBe('productID')
  })

  it('takes the words from the schema, prefixed by the field, for the tRPC face', () => {
    const r = slotsInput.safeParse({ productId: 14, date: '2026-02-30' })
    expect(r.success).toBe(false)
    const e = fromZodError(r.error!)
    expect([e.field, e.message]).toEqual(['date', 'date: is not a real calendar day'])
    const typo = runRequestSchema.safeParse({ form: '2026-12-01' })
    expect(fromZodError(typo.error!).message).toBe('form: is not a known field')
  })
})

describe('REST routes validate with the zod type provider', () => {
  async function app() {
    const calls: unknown[] = []
    const fastify = Fastify({ logger: false })
    fastify.setErrorHandler((err, _req, reply) => {
      const { status, body } = toPublicError(err)
      return reply.status(status).send(body)
    })
    useRestCompilers(fastify)
    const api = fastify.withTypeProvider<ZodTypeProvider>()
    api.get('/p/:id', { schema: { params: productIdParams, querystring: slotsQuery } }, async (req) => {
      calls.push({ id: req.params.id, date: req.query.date })
      return { ok: true }
    })
    api.post('/run', { schema: { body: runBody } }, async (req) => {
      calls.push(req.body ?? 'nothing')
      return { ok: true }
    })
    api.get('/changes', { schema: { querystring: changesQuery, headers: changesHeaders } }, async (req) => {
      calls.push({ productIds: req.query.productId, lastEventId: req.headers['last-event-id'] ?? req.query.lastEventId })
      return { ok: true }
    })
    return { fastify, calls }
  }

  it('hands the handler parsed values: the path id as a number, repeated parameters as a list, event ids as numbers', async () => {
    const { fastify, calls } = await app()
    expect((await fastify.inject({ url: '/p/14?date=2026-12-01' })).statusCode).toBe(200)
    expect((await fastify.inject({ url: '/changes?productId=14&productId=15', headers: { 'last-event-id': '7' } })).statusCode).toBe(200)
    expect((await fastify.inject({ method: 'POST', url: '/run' })).statusCode).toBe(200)
    expect((await fastify.inject({ method: 'POST', url: '/run', payload: { productId: 14 } })).statusCode).toBe(200)
    expect(calls).toEqual([{ id: 14, date: '2026-12-01' }, { productIds: [14, 15], lastEventId: 7 }, 'nothing', { productId: 14 }])
    await fastify.close()
  })

  it.each([
    ['GET', '/p/1e3?date=2026-12-01', undefined, {}, 'id', 'id: must be a positive integer (1 to 2147483647)'],
    ['GET', '/p/14', undefined, {}, 'date', 'date: is required'],
    ['GET', '/p/14?date=2026-02-30', undefined, {}, 'date', 'date: is not a real calendar day'],
    ['POST', '/run', { to: 'soon' }, {}, 'to', 'to: must be a date written YYYY-MM-DD'],
    ['POST', '/run', { from: '2026-12-07', to: '2026-12-01' }, {}, 'to', 'to: must not be before from'],
    ['POST', '/run', { productID: 14 }, {}, 'productID', 'productID: is not a known field'],
    ['POST', '/run', [1], {}, 'body', 'body: must be a JSON object'],
    ['GET', '/changes?productId=14&productId=0', undefined, {}, 'productId', 'productId: must be a positive integer (1 to 2147483647)'],
    ['GET', '/changes', undefined, { 'last-event-id': '-5' }, 'Last-Event-ID', 'Last-Event-ID: must be the id of a change event (a non-negative integer)'],
  ])('%s %s %j → 400 naming %s, and the handler never runs', async (method, url, payload, headers, field, message) => {
    const { fastify, calls } = await app()
    const r = await fastify.inject({ method: method as 'GET' | 'POST', url, headers, ...(payload !== undefined ? { payload } : {}) })
    expect(r.statusCode).toBe(400)
    expect(r.json()).toEqual({ error: { code: 'BAD_REQUEST', message, field } })
    expect(calls).toEqual([])
    await fastify.close()
  })

  it('documents what it validates: a path id is an integer from 1 in the JSON schema', () => {
    expect(z.toJSONSchema(productIdParams, { io: 'input' }).properties?.id).toMatchObject({ type: 'integer', minimum: 1 })
  })
})

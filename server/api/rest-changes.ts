import { once } from 'node:events'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { sseMessage, type ChangeEvent } from '../changes/event.ts'
import { createCaller, pathInt, sendError, type In, type RestOptions } from './rest.ts'
import { productIdSchema } from './schemas.ts'

const PING_MS = 15_000

/**
 * `GET /api/v1/changes`: the change feed as Server-Sent Events for clients
 * without tRPC. The stream is the availability.changes procedure's (same
 * validation, same events); each message carries its id, so an EventSource
 * resumes after a drop by sending `Last-Event-ID`.
 */
export async function changesRoute(api: FastifyInstance, opts: RestOptions): Promise<void> {
  api.get('/api/v1/changes', {
    schema: {
      tags: ['availability'],
      summary: 'What changed, as it happens (text/event-stream); resume with Last-Event-ID',
      querystring: z.object({
        productId: z.union([productIdSchema, z.array(productIdSchema)]).optional().meta({ description: 'Only these products (repeat the parameter for several)' }),
        lastEventId: z.string().optional().meta({ description: 'For clients that cannot send the Last-Event-ID header' }),
      }),
      headers: z.object({ 'last-event-id': z.string().optional() }),
    },
    handler: async (req, reply) => {
      const q = req.query as Record<string, string | string[] | undefined>
      const header = req.headers['last-event-id']
      const lastEventId = typeof header === 'string' ? header : typeof q.lastEventId === 'string' ? q.lastEventId : undefined
      const productIds = q.productId === undefined ? undefined : (Array.isArray(q.productId) ? q.productId : [q.productId]).map(pathInt)
      const fields = { productIds: 'productId', lastEventId: typeof header === 'string' ? 'Last-Event-ID' : 'lastEventId', input: 'query' }

      const ac = new AbortController()
      let events: AsyncIterable<unknown>
      try {
        const input = { ...(productIds ? { productIds } : {}), ...(lastEventId !== undefined ? { lastEventId } : {}) }
        events = await createCaller(opts.context(req.headers), { signal: ac.signal }).availability.changes(input as In['availability']['changes'])
      } catch (err) {
        return sendError(req, reply, err, fields)
      }
      return stream(req, reply, events, ac)
    },
  })
}

async function stream(req: FastifyRequest, reply: FastifyReply, events: AsyncIterable<unknown>, ac: AbortController): Promise<void> {
  // Start the stream before the headers go out: it subscribes to the live
  // events at once, so a client that has the 200 misses nothing from then on.
  const it = events[Symbol.asyncIterator]()
  const first = it.next()
  first.catch(() => {}) // handled below; the headers go out first
  reply.hijack()
  const res = reply.raw
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Proxies such as nginx buffer responses unless told not to.
    'x-accel-buffering': 'no',
  })
  // A reconnecting EventSource waits this long (ms); the comment line flushes the headers to the client at once.
  res.write('retry: 2000\n: connected\n\n')
  // The response's close (not the request's) is the client going away.
  res.on('close', () => ac.abort())
  const ping = setInterval(() => res.write(': ping\n\n'), PING_MS)
  try {
    for (let r = await first; !r.done; r = await it.next()) {
      // The procedure yields tracked(id, event) envelopes: [id, event, symbol].
      const e = (Array.isArray(r.value) ? r.value[1] : r.value) as ChangeEvent
      if (!res.write(sseMessage(e))) await once(res, 'drain', { signal: ac.signal }).catch(() => {})
      if (ac.signal.aborted) break
    }
  } catch (err) {
    if (!ac.signal.aborted) req.log.warn({ err: (err as Error).message }, 'change stream failed')
  } finally {
    clearInterval(ping)
    ac.abort()
    await it.return?.().catch(() => {})
    res.end()
  }
}

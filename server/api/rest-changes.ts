import { once } from 'node:events'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { sseMessage, type ChangeEvent } from '../changes/event.ts'
import { errorResponses } from './openapi.ts'
import { createCaller, type RestOptions } from './rest.ts'
import { changesHeaders, changesQuery } from './rest-schemas.ts'

const PING_MS = 15_000

/**
 * `GET /api/v1/changes`: the change feed as Server-Sent Events for clients
 * without tRPC. The stream is the availability.changes procedure's (same
 * events); each message carries its id, so an EventSource resumes after a
 * drop by sending `Last-Event-ID`.
 */
export async function changesRoute(fastify: FastifyInstance, opts: RestOptions): Promise<void> {
  fastify.withTypeProvider<ZodTypeProvider>().get('/api/v1/changes', {
    schema: {
      tags: ['availability'],
      operationId: 'streamChanges',
      summary: 'What changed, as it happens (text/event-stream); resume with Last-Event-ID',
      querystring: changesQuery,
      headers: changesHeaders,
      // The 200 (the event stream) is described in openapi.ts: fastify-swagger only knows JSON bodies.
      response: errorResponses(400, 429, 503),
    },
    handler: async (req, reply) => {
      // The header is what a reconnecting EventSource sends; it wins over the query parameter.
      const lastEventId = req.headers['last-event-id'] ?? req.query.lastEventId
      const productIds = req.query.productId
      const ac = new AbortController()
      // Before the stream starts, a failure (an unknown event id, the database down) is an ordinary error answer.
      const events = await createCaller(opts.context(req.headers), { signal: ac.signal }).availability.changes({
        ...(productIds ? { productIds } : {}),
        ...(lastEventId !== undefined ? { lastEventId } : {}),
      })
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

import type { FastifyReply, FastifyRequest } from 'fastify'
import { AppError, TooManyRequestsError, UnavailableError } from '../errors.ts'
import { type AuthGuard, type AuthOutcome, clientKey, createWindowCounter, type StreamSlots } from './client-limits.ts'

/** How long a client refused a change stream is told to wait before trying again. */
export const STREAM_RETRY_AFTER_S = 10

export interface EdgeOptions {
  /** Units per client a minute: a request is one, a tRPC batch one per procedure (API_RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute: number
  /** TRPC_MAX_BATCH */
  maxBatch: number
  streams: StreamSlots
  authGuard: AuthGuard
}

export interface Edge {
  /** The rate-limited scope's onRequest hook: batch cap, read allowance, stream slots. */
  onRequest(req: FastifyRequest, reply: FastifyReply): Promise<void>
  /**
   * A credential check for this request's client through the auth guard. A
   * failed or blocked attempt gives back the read unit it was charged: wrong
   * tokens must not use up the allowance of the client's public reads.
   */
  verify(req: FastifyRequest, credential: string | undefined, valid: (credential: string) => boolean): AuthOutcome
  retryAfterS(req: FastifyRequest): number
}

/** What a URL asks of tRPC: the procedure paths (one unless `?batch=1`), or undefined outside /trpc. */
export function trpcCall(url: string): { batch: boolean; paths: string[] } | undefined {
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  if (!path.startsWith('/trpc/')) return undefined
  let procedures = path.slice('/trpc/'.length)
  try {
    procedures = decodeURIComponent(procedures)
  } catch {
    // Left as sent: tRPC answers a malformed path itself.
  }
  const batch = new URLSearchParams(q < 0 ? '' : url.slice(q + 1)).get('batch') === '1'
  return { batch, paths: batch ? procedures.split(',') : [procedures] }
}

/** The change feed's two faces, which hold a connection open for as long as the client listens. */
function isStream(req: FastifyRequest, call: ReturnType<typeof trpcCall>): boolean {
  if (req.method !== 'GET') return false
  if (call) return !call.batch && call.paths[0] === 'availability.changes'
  return req.url.split('?')[0] === '/api/v1/changes'
}

export function createEdge(o: EdgeOptions): Edge {
  const reads = createWindowCounter({ limit: o.rateLimitPerMinute, windowMs: 60_000 })
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

  return {
    async onRequest(req, reply) {
      const key = clientKey(req.ip)
      const call = trpcCall(req.url)
      const cost = call?.batch ? call.paths.length : 1
      // Before anything is counted or run: the work a request carries is bounded.
      if (cost > o.maxBatch)
        throw new AppError(
          'BAD_REQUEST',
          `a tRPC batch may carry at most ${o.maxBatch} procedures (TRPC_MAX_BATCH); this one has ${cost}: split it (httpBatchLink's maxItems)`,
        )
      const t = reads.take(key, cost)
      reply.header('x-ratelimit-limit', t.limit).header('x-ratelimit-remaining', t.remaining).header('x-ratelimit-reset', seconds(t.resetInMs))
      if (!t.ok) {
        const after = seconds(t.resetInMs)
        reply.header('retry-after', after)
        throw new TooManyRequestsError(
          `rate limit exceeded: ${t.limit} a minute per client address, each procedure of a tRPC batch counting as one${cost > 1 ? ` (this batch needs ${cost}, ${t.remaining} left)` : ''}; retry in ${after} s`,
          after,
        )
      }
      if (!isStream(req, call)) return
      const slot = o.streams.acquire(key)
      if (!slot.ok) {
        // A refused stream did no work: it costs nothing.
        reads.refund(key, cost)
        reply.header('retry-after', STREAM_RETRY_AFTER_S)
        if (slot.refusedBy === 'client')
          throw new TooManyRequestsError(
            'too many open change streams from this client address (SSE_MAX_STREAMS_PER_IP); close one or retry later',
            STREAM_RETRY_AFTER_S,
          )
        throw new UnavailableError('this instance has as many change streams open as it serves (SSE_MAX_STREAMS); retry later or on another instance')
      }
      // The response's close: the stream ended, failed before starting, or the client went away.
      reply.raw.once('close', slot.release)
    },

    verify(req, credential, valid) {
      const key = clientKey(req.ip)
      const outcome = o.authGuard.verify(key, credential, valid)
      if (outcome === 'denied' || outcome === 'blocked') reads.refund(key, 1)
      return outcome
    },

    retryAfterS: (req) => o.authGuard.retryAfterS(clientKey(req.ip)),
  }
}

import { randomUUID } from 'node:crypto'
import http from 'node:http'
import proxyAddr from '@fastify/proxy-addr'
import type { FastifyReply, FastifyServerOptions } from 'fastify'
import { clientErrorBody } from './api/errors.ts'
import type { TrustProxy } from './config.ts'

/**
 * A tRPC batch names every procedure in one path segment
 * (`/trpc/a.b,c.d,...`): Fastify's default limit of 100 characters turned a
 * batch of more than about five into a 414. 8,000 fits a few hundred
 * procedure names and stays under Node's 16 KiB request-head limit.
 */
export const MAX_PARAM_LENGTH = 8_000

/**
 * The Fastify options of slotsync's HTTP server that are not about logging:
 * createServer and the API tests build their app with these, so the tests
 * meet the limits production has.
 */
export function httpServerOptions(opts: {
  trustProxy: TrustProxy
}): Pick<FastifyServerOptions, 'trustProxy' | 'routerOptions' | 'frameworkErrors' | 'clientErrorHandler' | 'genReqId' | 'requestIdHeader'> {
  return {
    // The request id: every log record of a request carries it (REQUEST_ID_LOG_LABEL), and the
    // API sends it back as x-request-id (api/index.ts).
    requestIdHeader: false,
    genReqId: requestIdGenerator(opts.trustProxy),
    // A hop count is a number at run time (proxy-addr); Fastify's types omit it.
    trustProxy: opts.trustProxy as Exclude<TrustProxy, number>,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Raised by the router before any route or error handler runs (a path
    // segment over the limit, a malformed URL): without this hook Fastify
    // answers in its own shape.
    frameworkErrors(err, req, reply) {
      const status = err.statusCode ?? 400
      if (status >= 500) {
        req.log.error({ err }, 'request failed before routing')
        return void (reply as FastifyReply).status(status).send({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'internal error' } })
      }
      const message =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? `request path too long: one segment is over ${MAX_PARAM_LENGTH} characters (split the tRPC batch, e.g. httpBatchLink's maxURLLength)`
          : 'malformed request URL'
      void (reply as FastifyReply).status(status).send(clientErrorBody(status, message))
    },
    // Node rejects some requests before Fastify sees them (headers over
    // 16 KiB, a request that never completes): answered on the socket, in the
    // same shape.
    clientErrorHandler(err, socket) {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || socket.destroyed) return
      const code = (err as NodeJS.ErrnoException).code
      const [status, message] =
        code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'request headers (with the URL) are over 16 KiB']
          : code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'the request took too long to arrive']
            : [400, 'malformed HTTP request']
      const body = JSON.stringify(clientErrorBody(status, message))
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        )
      }
      socket.destroy(err)
    },
  }
}

export const REQUEST_ID_HEADER = 'x-request-id'
/** The request id's field in log records (Fastify's LogController option). */
export const REQUEST_ID_LOG_LABEL = 'requestId'
// What a proxy's id may look like: no spaces or quotes to forge log fields with, and short.
const REQUEST_ID_SHAPE = /^[\w.:@/+=-]{1,128}$/

/**
 * A request's id: the one a trusted proxy sent in x-request-id (so one id
 * follows a request through the proxy's logs and ours), else a new UUID. A
 * client talking to us directly cannot choose it: anyone could otherwise
 * make their requests look like someone else's in the logs. "Trusted" is
 * TRUST_PROXY's meaning in Fastify: every peer (true), listed addresses, or
 * none (false, or a hop count, which cannot vouch for the peer).
 */
export function requestIdGenerator(trustProxy: TrustProxy): (req: http.IncomingMessage) => string {
  const list = Array.isArray(trustProxy) ? proxyAddr.compile(trustProxy) : undefined
  // Hop 0: the peer on the socket.
  const trusted = (addr: string) => trustProxy === true || (list?.(addr, 0) ?? false)
  return (req) => {
    const given = req.headers[REQUEST_ID_HEADER]
    const peer = req.socket?.remoteAddress
    if (typeof given === 'string' && REQUEST_ID_SHAPE.test(given) && peer && trusted(peer)) return given
    return randomUUID()
  }
}

import type { Attributes, Span, TraceAPI } from '@opentelemetry/api'

/**
 * What the code base calls to add its own spans (tRPC procedures, partner
 * fetches, the route name of an HTTP span). It imports nothing of
 * OpenTelemetry at run time: server/otel.ts hands the API in when tracing is
 * on (OTEL_* set), and until then each call is one check of a variable, so a
 * service without tracing loads nothing of the OpenTelemetry SDK (prom-client
 * alone loads the API, a no-op without an SDK).
 */
let traceApi: TraceAPI | undefined

/** Called by server/otel.ts once its provider is registered. */
export function useTraceApi(api: TraceAPI | undefined): void {
  traceApi = api
}

export function tracingOn(): boolean {
  return traceApi !== undefined
}

/** The span of the current context (an HTTP request's server span, a procedure's), if tracing is on. */
export function activeSpan(): Span | undefined {
  return traceApi?.getActiveSpan()
}

/** Names the current HTTP server span after its route and tags it with the request id (the logs' `requestId`). */
export function nameHttpSpan(method: string, route: string | undefined, requestId: string): void {
  const span = traceApi?.getActiveSpan()
  if (!span) return
  if (route) span.updateName(`${method} ${route}`).setAttribute('http.route', route)
  span.setAttribute('slotsync.request_id', requestId)
}

const ERROR = 2 // SpanStatusCode.ERROR, without importing the API's enum at run time

/**
 * Runs `fn` inside a span named `name` (a child of the current one); the span
 * ends when `fn` settles and records an exception it throws. Without tracing,
 * just `fn()`.
 */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!traceApi) return fn(undefined)
  return traceApi.getTracer('slotsync').startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span)
    } catch (err) {
      span.recordException(err as Error)
      span.setStatus({ code: ERROR, message: (err as Error)?.message })
      throw err
    } finally {
      span.end()
    }
  })
}

/** Marks a span failed without an exception (a result that carries its error). */
export function markFailed(span: Span | undefined, message: string): void {
  span?.setStatus({ code: ERROR, message })
}

import { trace, type Context, type Link, type SpanKind, type Attributes } from '@opentelemetry/api'
import { OTLPTraceExporter as OTLPHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as OTLPProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources'
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-node'
import { PrismaInstrumentation } from '@prisma/instrumentation'
import type { TracingConfig } from './config.ts'
import { useTraceApi } from './observability/tracing.ts'
import { VERSION } from './version.ts'

/** Probes and scrapes: a trace every few seconds that says nothing. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics'])

/**
 * The scheduler's own database polls have no request around them: as roots
 * they would be most of the traces and none a person follows. A query inside
 * a request, a procedure or a partner fetch is kept (it has a parent).
 */
class DropRootDatabaseSpans implements Sampler {
  private readonly inner: Sampler
  constructor(cfg: TracingConfig) {
    // OTEL_TRACES_SAMPLER's meaning, which the SDK would apply had no sampler been given.
    const root = cfg.sampleRatio >= 1 ? new AlwaysOnSampler() : cfg.sampleRatio <= 0 ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(cfg.sampleRatio)
    this.inner = cfg.parentBased ? new ParentBasedSampler({ root }) : root
  }
  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attrs: Attributes, links: Link[]): SamplingResult {
    if (name.startsWith('prisma:') && !trace.getSpanContext(ctx)) return { decision: SamplingDecision.NOT_RECORD }
    return this.inner.shouldSample(ctx, traceId, name, kind, attrs, links)
  }
  toString() {
    return 'DropRootDatabaseSpans'
  }
}

function exporterFor(cfg: TracingConfig): SpanExporter {
  if (cfg.exporter === 'console') return new ConsoleSpanExporter()
  // Both read OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS, _TIMEOUT themselves.
  return cfg.protocol === 'http/json' ? new OTLPHttpJsonExporter() : new OTLPProtobufExporter()
}

export interface Tracing {
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>
}

/**
 * Starts the OpenTelemetry SDK: HTTP server spans (node:http, which Fastify
 * serves through), partner calls (undici, Node's fetch), Prisma's query spans,
 * and the API for slotsync's own spans (observability/tracing.ts). main.ts
 * calls it before importing the server, so the instrumented modules load
 * after their instrumentation is registered.
 */
export function startTracing(cfg: TracingConfig): Tracing {
  const resource = resourceFromAttributes({ 'service.name': 'slotsync', 'service.version': VERSION }).merge(
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults above.
    detectResources({ detectors: [envDetector] }),
  )
  const provider = new NodeTracerProvider({
    resource,
    sampler: new DropRootDatabaseSpans(cfg),
    spanProcessors: [new BatchSpanProcessor(exporterFor(cfg))],
  })
  provider.register()
  const disable = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
        // The exporter's own POSTs to the collector would trace themselves.
        requireParentforOutgoingSpans: true,
      }),
      new UndiciInstrumentation(),
      // serialize: a span per query for turning rows into objects, which tells nothing a db_query span does not.
      new PrismaInstrumentation({ ignoreSpanTypes: ['prisma:client:serialize'] }),
    ],
  })
  useTraceApi(trace)
  return {
    async shutdown() {
      useTraceApi(undefined)
      disable()
      await provider.shutdown()
    },
  }
}

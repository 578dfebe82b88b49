import { z } from 'zod'

/**
 * CORS_ORIGINS and the OTEL_* variables, for config.ts (which parses the
 * environment once; nothing else reads it).
 */

/** Browser origins allowed to call the API (CORS_ORIGINS): scheme://host[:port] each, nothing after it. */
export const corsOrigins = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const entries = (v ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
    if (!entries.length) return undefined
    const origins: string[] = []
    for (const e of entries) {
      let u: URL | undefined
      try {
        u = new URL(e)
      } catch {}
      // An origin is what a browser sends in `Origin`: a path, a query or a trailing slash never matches one.
      if (!u || !['http:', 'https:'].includes(u.protocol) || u.origin !== e.replace(/\/$/, '') || e.endsWith('/')) {
        ctx.addIssue({
          code: 'custom',
          message: `CORS_ORIGINS must be comma-separated origins such as https://shop.example (scheme, host, optional port), got "${e}"`,
        })
        return z.NEVER
      }
      origins.push(u.origin)
    }
    return [...new Set(origins)]
  })

/**
 * Tracing, from the OpenTelemetry SDK's standard variables. Only whether it is
 * on and which exporter and protocol are read here; the SDK reads the rest
 * itself (endpoint, headers, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES).
 */
export interface TracingConfig {
  exporter: 'otlp' | 'console'
  /** OTLP over HTTP only: gRPC would bring a second stack of dependencies. */
  protocol: 'http/protobuf' | 'http/json'
  /** Share of new traces kept (OTEL_TRACES_SAMPLER, _ARG); a span with a parent follows its parent unless `parentBased` is false. */
  sampleRatio: number
  parentBased: boolean
}

const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio']

export function tracingFrom(env: Record<string, string | undefined>): { value?: TracingConfig; error?: string } {
  const get = (k: string) => env[k]?.trim() || undefined
  if (/^true$/i.test(get('OTEL_SDK_DISABLED') ?? '')) return {}
  const exporters = (get('OTEL_TRACES_EXPORTER') ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean)
  const bad = exporters.find((e) => !['otlp', 'console', 'none'].includes(e))
  if (bad) return { error: `OTEL_TRACES_EXPORTER must be otlp, console or none, got "${bad}"` }
  const endpoint = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? get('OTEL_EXPORTER_OTLP_ENDPOINT')
  // Unset exporter: on when an endpoint is given (the spec's default exporter is otlp, but a
  // service that sends to localhost:4318 unasked would surprise); `none` turns it off.
  const exporter = exporters.includes('none')
    ? undefined
    : exporters.includes('otlp')
      ? 'otlp'
      : exporters.includes('console')
        ? 'console'
        : endpoint
          ? 'otlp'
          : undefined
  if (!exporter) return {}
  const protocol = get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? get('OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf'
  if (protocol !== 'http/protobuf' && protocol !== 'http/json')
    return { error: `OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json (grpc is not supported), got "${protocol}"` }
  const sampler = (get('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase()
  if (!SAMPLERS.includes(sampler)) return { error: `OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')}, got "${sampler}"` }
  const arg = get('OTEL_TRACES_SAMPLER_ARG')
  const ratio = sampler.endsWith('traceidratio') ? Number(arg ?? '1') : sampler.endsWith('always_off') ? 0 : 1
  if (!(ratio >= 0 && ratio <= 1)) return { error: `OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "${arg}"` }
  return { value: { exporter, protocol, sampleRatio: ratio, parentBased: sampler.startsWith('parentbased_') } }
}

import net from 'node:net'
import { z } from 'zod'
import { corsOrigins, type TracingConfig, tracingFrom } from './config-observability.ts'

export type { TracingConfig }

/**
 * Every setting slotsync reads from the environment, parsed once. Nothing else
 * in the code base reads `process.env` (docs/contracts/configuration.md).
 */
const bool = (name: string, dflt: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return dflt
      if (/^(true|1|yes|on)$/i.test(v)) return true
      if (/^(false|0|no|off)$/i.test(v)) return false
      ctx.addIssue({ code: 'custom', message: `${name} must be true or false, got "${v}"` })
      return z.NEVER
    })

const int = (name: string, dflt: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return dflt
      if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max}, got "${v}"` })
        return z.NEVER
      }
      return Number(v)
    })

/** A share from 0 to `max` (a decimal such as 0.2). */
const share = (name: string, dflt: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return dflt
      if (!/^(0|1)?(\.\d+)?$/.test(v) || v === '.' || Number(v) > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a share from 0 to ${max} (e.g. 0.2), got "${v}"` })
        return z.NEVER
      }
      return Number(v)
    })

const url = (name: string, protocols: string[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined
      let parsed: URL
      try {
        parsed = new URL(v)
      } catch {
        ctx.addIssue({ code: 'custom', message: `${name} is not a valid URL` })
        return z.NEVER
      }
      if (!protocols.includes(parsed.protocol)) {
        ctx.addIssue({ code: 'custom', message: `${name} must start with ${protocols.join(' or ')}//` })
        return z.NEVER
      }
      return v.replace(/\/+$/, '')
    })

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

const timeZone = (name: string, dflt: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const tz = v === undefined || v === '' ? dflt : v
      if (!isValidTimeZone(tz)) {
        ctx.addIssue({ code: 'custom', message: `${name} is not a known IANA time zone: "${tz}"` })
        return z.NEVER
      }
      return tz
    })

const productIds = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return undefined
    const parts = v
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
    const bad = parts.find((p) => !/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 2_147_483_647)
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `SYNC_PRODUCT_IDS must be comma-separated positive integers, got "${bad}"` })
      return z.NEVER
    }
    return [...new Set(parts.map(Number))]
  })

/** Fastify's `trustProxy`: off, on (any proxy), how many hops to trust, or which proxy addresses. */
export type TrustProxy = boolean | number | string[]

// proxy-addr's (Fastify's) names for address ranges, usable in the list.
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal'])

const trustProxy = z
  .string()
  .optional()
  .transform((v, ctx): TrustProxy => {
    const s = v?.trim() ?? ''
    if (s === '' || /^(false|no|off)$/i.test(s)) return false
    if (/^(true|yes|on)$/i.test(s)) return true
    if (/^\d+$/.test(s)) return Number(s)
    const entries = s
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
    const bad = entries.find((e) => {
      if (PROXY_RANGES.has(e)) return false
      const [ip, bits, ...rest] = e.split('/')
      const family = net.isIP(ip ?? '')
      if (!family || rest.length) return true
      return bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
    })
    if (bad !== undefined || !entries.length) {
      ctx.addIssue({
        code: 'custom',
        message: `TRUST_PROXY must be true, false, a hop count, or comma-separated proxy addresses (IP, IP/bits, loopback, linklocal, uniquelocal), got "${bad ?? s}"`,
      })
      return z.NEVER
    }
    return entries
  })

/** `0`, `n` or `a-b` milliseconds (SANDBOX_LATENCY_MS). */
export function parseLatency(v: string): { minMs: number; maxMs: number } | undefined {
  const m = /^\s*(\d{1,6})\s*(?:-\s*(\d{1,6})\s*)?$/.exec(v)
  if (!m) return undefined
  const minMs = Number(m[1])
  const maxMs = m[2] === undefined ? minMs : Number(m[2])
  return minMs <= maxMs ? { minMs, maxMs } : undefined
}

const latency = (name: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return { minMs: 0, maxMs: 0 }
      const parsed = parseLatency(v)
      if (!parsed) {
        ctx.addIssue({ code: 'custom', message: `${name} must be milliseconds as "n" or "a-b" with a ≤ b, got "${v}"` })
        return z.NEVER
      }
      return parsed
    })

// Bearer keys for /octo/*: unset or blank turns the OCTO face off. The
// message never echoes the value (it is a secret).
const octoApiKeys = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const keys = [
      ...new Set(
        (v ?? '')
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean),
      ),
    ]
    if (keys.length === 0) return undefined
    if (keys.some((k) => /\s/.test(k))) {
      ctx.addIssue({ code: 'custom', message: 'OCTO_API_KEYS must be comma-separated keys without spaces inside a key' })
      return z.NEVER
    }
    return keys
  })

/** Defaults of the per-client limits at the API's edge (docs/contracts/configuration.md). */
export const DEFAULT_EDGE_LIMITS: EdgeLimits = { maxBatch: 50, maxStreams: 2000, maxStreamsPerClient: 20, authFailuresPerMinute: 20 }

/** configuration.md's defaults for SYNC_LIVE_SHARE and LIVE_CHECKS_PER_MINUTE (also what createSync uses when not told). */
export const LIVE_DEFAULTS = { share: 0.2, perClientPerMinute: 10 } as const

const envSchema = z.object({
  PORT: int('PORT', 3000, 0, 65535),
  HOST: z
    .string()
    .optional()
    .transform((v) => v || '127.0.0.1'),
  DATABASE_URL: url('DATABASE_URL', ['postgres:', 'postgresql:']),
  SLOTSYNC_DATA_DIR: z
    .string()
    .optional()
    .transform((v) => v || './.data'),
  PARTNER_BASE_URL: url('PARTNER_BASE_URL', ['http:', 'https:']),
  PARTNER_API_KEY: z
    .string()
    .optional()
    .transform((v) => v || undefined),
  PARTNER_RATE_LIMIT_PER_MINUTE: int('PARTNER_RATE_LIMIT_PER_MINUTE', 30, 1, 100_000),
  SYNC_PRODUCT_IDS: productIds,
  SYNC_TIMEZONE: timeZone('SYNC_TIMEZONE', 'Asia/Singapore'),
  SYNC_ENABLED: bool('SYNC_ENABLED', true),
  PARTNER_TIMEOUT_MS: int('PARTNER_TIMEOUT_MS', 10_000, 100, 600_000),
  PARTNER_MAX_BODY_BYTES: int('PARTNER_MAX_BODY_BYTES', 5_000_000, 1_000, 1_000_000_000),
  PARTNER_MAX_SLOTS: int('PARTNER_MAX_SLOTS', 2_000, 1, 1_000_000),
  PARTNER_MAX_HALT_S: int('PARTNER_MAX_HALT_S', 300, 1, 86_400),
  SYNC_MAX_IN_FLIGHT: int('SYNC_MAX_IN_FLIGHT', 8, 1, 1_000),
  SYNC_BUDGET_MARGIN_MS: int('SYNC_BUDGET_MARGIN_MS', 1_000, 0, 60_000),
  // Live checks (public-api.md "Live check"; configuration.md): a share of the key, a per-address allowance, OCTO's maximum age.
  SYNC_LIVE_SHARE: share('SYNC_LIVE_SHARE', LIVE_DEFAULTS.share, 1),
  LIVE_CHECKS_PER_MINUTE: int('LIVE_CHECKS_PER_MINUTE', LIVE_DEFAULTS.perClientPerMinute, 1, 1_000_000),
  OCTO_LIVE_MAX_AGE_S: int('OCTO_LIVE_MAX_AGE_S', 300, 1, 86_400),
  ADMIN_TOKEN: z
    .string()
    .optional()
    .transform((v) => v || undefined),
  LOG_LEVEL: z
    .string()
    .optional()
    .transform((v) => v || 'info')
    .pipe(
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      }),
    ),
  API_RATE_LIMIT_PER_MINUTE: int('API_RATE_LIMIT_PER_MINUTE', 6000, 1, 10_000_000),
  API_CACHE_TTL_MS: int('API_CACHE_TTL_MS', 1000, 0, 3_600_000),
  // Deployment (docs/contracts/configuration.md).
  PUBLIC_URL: url('PUBLIC_URL', ['http:', 'https:']),
  TRUST_PROXY: trustProxy,
  DATABASE_POOL_SIZE: int('DATABASE_POOL_SIZE', 10, 1, 1000),
  DATABASE_STATEMENT_TIMEOUT_MS: int('DATABASE_STATEMENT_TIMEOUT_MS', 5_000, 100, 600_000),
  // The change feed's one LISTEN connection must reach Postgres itself: a
  // transaction-pooling PgBouncer in DATABASE_URL never delivers NOTIFY.
  DATABASE_DIRECT_URL: url('DATABASE_DIRECT_URL', ['postgres:', 'postgresql:']),
  SHUTDOWN_DELAY_MS: int('SHUTDOWN_DELAY_MS', 0, 0, 600_000),
  // Unset is kept apart from 4010: `npm run sandbox` listens on 4010, while the
  // sandbox `npm start` runs takes a free port unless one is asked for.
  SANDBOX_PORT: z
    .string()
    .optional()
    .pipe(int('SANDBOX_PORT', -1, 0, 65535))
    .transform((v) => (v === -1 ? undefined : v)),
  SANDBOX_API_KEY: z
    .string()
    .optional()
    .transform((v) => v || 'sandbox-key'),
  SANDBOX_RATE_LIMIT_PER_MINUTE: int('SANDBOX_RATE_LIMIT_PER_MINUTE', 30, 1, 100_000),
  SANDBOX_PRODUCTS: int('SANDBOX_PRODUCTS', 50, 0, 100_000),
  SANDBOX_LATENCY_MS: latency('SANDBOX_LATENCY_MS'),
  OCTO_API_KEYS: octoApiKeys,
  // Edge limits (issue 25): work and connections one client can hold.
  TRPC_MAX_BATCH: int('TRPC_MAX_BATCH', DEFAULT_EDGE_LIMITS.maxBatch, 1, 1_000),
  SSE_MAX_STREAMS: int('SSE_MAX_STREAMS', DEFAULT_EDGE_LIMITS.maxStreams, 1, 1_000_000),
  SSE_MAX_STREAMS_PER_IP: int('SSE_MAX_STREAMS_PER_IP', DEFAULT_EDGE_LIMITS.maxStreamsPerClient, 1, 1_000_000),
  AUTH_FAILURES_PER_MINUTE: int('AUTH_FAILURES_PER_MINUTE', DEFAULT_EDGE_LIMITS.authFailuresPerMinute, 1, 1_000_000),
  CORS_ORIGINS: corsOrigins,
})

export type Env = z.infer<typeof envSchema>

export interface Config {
  port: number
  host: string
  /** Unset: start the embedded Postgres in `dataDir`. */
  databaseUrl: string | undefined
  dataDir: string
  partner: {
    /** Unset: start the partner sandbox in-process. */
    baseUrl: string | undefined
    apiKey: string | undefined
    rateLimitPerMinute: number
    /** One request's time limit (PARTNER_TIMEOUT_MS). */
    timeoutMs: number
    /** Beyond either, a day's answer is rejected (PARTNER_MAX_BODY_BYTES, PARTNER_MAX_SLOTS). */
    maxBodyBytes: number
    maxSlots: number
    /** The longest a 429's reset may halt sending (PARTNER_MAX_HALT_S), in ms. */
    maxHaltMs: number
  }
  sync: {
    enabled: boolean
    productIds: number[] | undefined
    timeZone: string
    /** Partner requests in flight at once per instance. */
    maxInFlight: number
    /** Added to the partner's 60 s window (network time, clock differences). */
    budgetMarginMs: number
    /** Live checks: the key's share their lane may use (SYNC_LIVE_SHARE), checks per client address a minute (LIVE_CHECKS_PER_MINUTE). */
    live: { share: number; perClientPerMinute: number }
  }
  /** Unset: a random token is generated and printed once at start. */
  adminToken: string | undefined
  logLevel: Env['LOG_LEVEL']
  apiRateLimitPerMinute: number
  /** How long a read may be served from memory (0 = never); data is minutes old anyway. */
  apiCacheTtlMs: number
  /** The address clients use; unset: the address the server listens on. */
  publicUrl: string | undefined
  trustProxy: TrustProxy
  databasePoolSize: number
  /** The longest one statement of the API's pool may run (server-side where the server accepts it, and client-side always). */
  databaseStatementTimeoutMs: number
  /** For the change feed's LISTEN connection; unset: DATABASE_URL (or the embedded database). */
  databaseDirectUrl: string | undefined
  /** On SIGTERM, how long /ready answers 503 while requests are still served, before the listener closes. */
  shutdownDelayMs: number
  /** Bearer keys of the OCTO face (/octo/*); undefined: the face is off (404). Secrets: never logged. */
  octoApiKeys: string[] | undefined
  /** The maximum age of a one-day OCTO availability answer in ms (OCTO_LIVE_MAX_AGE_S): a live check when older. */
  octoLiveMaxAgeMs: number
  /** Per-client limits at the API's edge (TRPC_MAX_BATCH, SSE_MAX_STREAMS[_PER_IP], AUTH_FAILURES_PER_MINUTE). */
  edge: EdgeLimits
  /** Origins a browser may call the API from (CORS_ORIGINS); undefined: no cross-origin access. */
  corsOrigins: string[] | undefined
  /** From the standard OTEL_* variables; undefined: tracing off and the SDK never loaded. */
  tracing: TracingConfig | undefined
  sandbox: {
    /** Unset: 4010 for `npm run sandbox`, any free port when `npm start` runs it. */
    port: number | undefined
    apiKey: string
    rateLimitPerMinute: number
    products: number
    /** How long each answer takes after the request arrives, drawn uniformly. */
    latency: { minMs: number; maxMs: number }
  }
}

export interface EdgeLimits {
  /** Procedures in one tRPC batch; more answer 400. */
  maxBatch: number
  /** Open change-feed streams per instance (beyond: 503) and per client address (beyond: 429). */
  maxStreams: number
  maxStreamsPerClient: number
  /** Failed admin or OCTO authentications one client address may make a minute (beyond: 429). */
  authFailuresPerMinute: number
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Parses the environment; throws one ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env)
  const tracing = tracingFrom(env)
  if (!parsed.success || tracing.error) {
    const lines = (parsed.error?.issues ?? []).map((i) => {
      const variable = String(i.path[0] ?? '')
      return i.message.includes(variable) ? i.message : `${variable}: ${i.message}`
    })
    if (tracing.error) lines.push(tracing.error)
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`)
  }
  const e = parsed.data
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.SLOTSYNC_DATA_DIR,
    partner: {
      baseUrl: e.PARTNER_BASE_URL,
      apiKey: e.PARTNER_API_KEY,
      rateLimitPerMinute: e.PARTNER_RATE_LIMIT_PER_MINUTE,
      timeoutMs: e.PARTNER_TIMEOUT_MS,
      maxBodyBytes: e.PARTNER_MAX_BODY_BYTES,
      maxSlots: e.PARTNER_MAX_SLOTS,
      maxHaltMs: e.PARTNER_MAX_HALT_S * 1000,
    },
    sync: {
      enabled: e.SYNC_ENABLED,
      productIds: e.SYNC_PRODUCT_IDS,
      timeZone: e.SYNC_TIMEZONE,
      maxInFlight: e.SYNC_MAX_IN_FLIGHT,
      budgetMarginMs: e.SYNC_BUDGET_MARGIN_MS,
      live: { share: e.SYNC_LIVE_SHARE, perClientPerMinute: e.LIVE_CHECKS_PER_MINUTE },
    },
    adminToken: e.ADMIN_TOKEN,
    logLevel: e.LOG_LEVEL,
    apiRateLimitPerMinute: e.API_RATE_LIMIT_PER_MINUTE,
    apiCacheTtlMs: e.API_CACHE_TTL_MS,
    publicUrl: e.PUBLIC_URL,
    trustProxy: e.TRUST_PROXY,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databaseStatementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    databaseDirectUrl: e.DATABASE_DIRECT_URL,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
    octoApiKeys: e.OCTO_API_KEYS,
    octoLiveMaxAgeMs: e.OCTO_LIVE_MAX_AGE_S * 1000,
    edge: {
      maxBatch: e.TRPC_MAX_BATCH,
      maxStreams: e.SSE_MAX_STREAMS,
      maxStreamsPerClient: e.SSE_MAX_STREAMS_PER_IP,
      authFailuresPerMinute: e.AUTH_FAILURES_PER_MINUTE,
    },
    corsOrigins: e.CORS_ORIGINS,
    tracing: tracing.value,
    sandbox: {
      port: e.SANDBOX_PORT,
      apiKey: e.SANDBOX_API_KEY,
      rateLimitPerMinute: e.SANDBOX_RATE_LIMIT_PER_MINUTE,
      products: e.SANDBOX_PRODUCTS,
      latency: e.SANDBOX_LATENCY_MS,
    },
  }
}

import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../server/config.ts'

describe('loadConfig', () => {
  it('serves `npm start` with no variables set', () => {
    const c = loadConfig({})
    expect(c.port).toBe(3000)
    expect(c.host).toBe('127.0.0.1')
    expect(c.databaseUrl).toBeUndefined()
    expect(c.dataDir).toBe('./.data')
    expect(c.partner).toEqual({
      baseUrl: undefined,
      apiKey: undefined,
      rateLimitPerMinute: 30,
      timeoutMs: 10_000,
      maxBodyBytes: 5_000_000,
      maxSlots: 2_000,
      maxHaltMs: 300_000,
    })
    expect(c.sync).toEqual({
      enabled: true,
      productIds: undefined,
      timeZone: 'Asia/Singapore',
      maxInFlight: 8,
      budgetMarginMs: 1_000,
      live: { share: 0.2, perClientPerMinute: 10 },
    })
    expect(c.octoLiveMaxAgeMs).toBe(300_000)
    expect(c.adminToken).toBeUndefined()
    expect(c.logLevel).toBe('info')
    expect(c.sandbox).toEqual({ port: undefined, apiKey: 'sandbox-key', rateLimitPerMinute: 30, products: 50, latency: { minMs: 0, maxMs: 0 } })
    expect(c.publicUrl).toBeUndefined()
    expect(c.trustProxy).toBe(false)
    expect(c.databasePoolSize).toBe(10)
    expect(c.databaseDirectUrl).toBeUndefined()
    expect(c.shutdownDelayMs).toBe(0)
  })

  it('reads every documented variable', () => {
    const c = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      SLOTSYNC_DATA_DIR: '/var/lib/slotsync',
      PARTNER_BASE_URL: 'https://partner.example/',
      PARTNER_API_KEY: 'k',
      PARTNER_RATE_LIMIT_PER_MINUTE: '60',
      SYNC_PRODUCT_IDS: '14, 15,14',
      SYNC_TIMEZONE: 'Europe/Paris',
      SYNC_ENABLED: 'false',
      ADMIN_TOKEN: 'tok',
      LOG_LEVEL: 'warn',
      SANDBOX_PORT: '0',
      SANDBOX_API_KEY: 'sk',
      SANDBOX_RATE_LIMIT_PER_MINUTE: '120',
      SANDBOX_PRODUCTS: '400',
      PUBLIC_URL: 'https://slots.example.com/',
      TRUST_PROXY: '2',
      DATABASE_POOL_SIZE: '25',
      DATABASE_DIRECT_URL: 'postgresql://u:p@db-primary:5432/x',
      SHUTDOWN_DELAY_MS: '5000',
      SANDBOX_LATENCY_MS: '300-4000',
      PARTNER_TIMEOUT_MS: '5000',
      SYNC_MAX_IN_FLIGHT: '4',
      SYNC_BUDGET_MARGIN_MS: '2500',
      SYNC_LIVE_SHARE: '0.25',
      LIVE_CHECKS_PER_MINUTE: '30',
      OCTO_LIVE_MAX_AGE_S: '60',
    })
    expect(c.port).toBe(8080)
    expect(c.host).toBe('0.0.0.0')
    expect(c.databaseUrl).toBe('postgresql://u:p@db:5432/x')
    expect(c.partner).toEqual({
      baseUrl: 'https://partner.example',
      apiKey: 'k',
      rateLimitPerMinute: 60,
      timeoutMs: 5_000,
      maxBodyBytes: 5_000_000,
      maxSlots: 2_000,
      maxHaltMs: 300_000,
    })
    expect(c.sync).toEqual({
      enabled: false,
      productIds: [14, 15],
      timeZone: 'Europe/Paris',
      maxInFlight: 4,
      budgetMarginMs: 2_500,
      live: { share: 0.25, perClientPerMinute: 30 },
    })
    expect(c.octoLiveMaxAgeMs).toBe(60_000)
    expect(c.adminToken).toBe('tok')
    expect(c.logLevel).toBe('warn')
    expect(c.sandbox).toEqual({ port: 0, apiKey: 'sk', rateLimitPerMinute: 120, products: 400, latency: { minMs: 300, maxMs: 4_000 } })
    expect(loadConfig({ SANDBOX_LATENCY_MS: '250' }).sandbox.latency).toEqual({ minMs: 250, maxMs: 250 })
    expect(c.publicUrl).toBe('https://slots.example.com')
    expect(c.trustProxy).toBe(2)
    expect(c.databasePoolSize).toBe(25)
    expect(c.databaseDirectUrl).toBe('postgresql://u:p@db-primary:5432/x')
    expect(c.shutdownDelayMs).toBe(5000)
  })

  it.each([
    ['true', true],
    ['off', false],
    ['0', 0],
    ['10.0.0.1', ['10.0.0.1']],
    ['10.0.0.0/8, loopback,::1,fd00::/8', ['10.0.0.0/8', 'loopback', '::1', 'fd00::/8']],
  ])('reads TRUST_PROXY=%s as Fastify trustProxy %j', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected)
  })

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://x/y'],
    ['PARTNER_BASE_URL', '::nope'],
    ['PARTNER_RATE_LIMIT_PER_MINUTE', '0'],
    ['SYNC_LIVE_SHARE', '1.5'],
    ['SYNC_LIVE_SHARE', 'a fifth'],
    ['LIVE_CHECKS_PER_MINUTE', '0'],
    ['OCTO_LIVE_MAX_AGE_S', '86401'],
    ['SYNC_TIMEZONE', 'Mars/Olympus'],
    ['SYNC_ENABLED', 'maybe'],
    ['SYNC_PRODUCT_IDS', '14,x'],
    ['LOG_LEVEL', 'loud'],
    ['SANDBOX_PRODUCTS', '-1'],
    ['PUBLIC_URL', 'slots.example.com'],
    ['PUBLIC_URL', 'ftp://slots.example.com'],
    ['TRUST_PROXY', 'maybe'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '10.0.0.1,proxy.internal'],
    ['DATABASE_POOL_SIZE', '0'],
    ['DATABASE_DIRECT_URL', 'http://db:5432/x'],
    ['DATABASE_POOL_SIZE', 'ten'],
    ['SHUTDOWN_DELAY_MS', '-5'],
    ['SANDBOX_LATENCY_MS', '4000-300'],
    ['SANDBOX_LATENCY_MS', 'slow'],
    ['PARTNER_TIMEOUT_MS', '0'],
    ['SYNC_MAX_IN_FLIGHT', '0'],
    ['SYNC_BUDGET_MARGIN_MS', '-5'],
  ])('rejects %s=%s with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [name]: value })).toThrow(name)
  })

  it('never puts a secret into its error message', () => {
    try {
      loadConfig({ PARTNER_API_KEY: 'super-secret-key', PORT: 'x' })
      expect.unreachable()
    } catch (err) {
      expect((err as Error).message).not.toContain('super-secret-key')
    }
  })
})

describe('loadConfig: edge limits (issue 25)', () => {
  it('defaults to the documented limits', () => {
    expect(loadConfig({}).edge).toEqual({ maxBatch: 50, maxStreams: 2000, maxStreamsPerClient: 20, authFailuresPerMinute: 20 })
  })

  it('reads each variable', () => {
    const c = loadConfig({ TRPC_MAX_BATCH: '10', SSE_MAX_STREAMS: '100', SSE_MAX_STREAMS_PER_IP: '3', AUTH_FAILURES_PER_MINUTE: '5' })
    expect(c.edge).toEqual({ maxBatch: 10, maxStreams: 100, maxStreamsPerClient: 3, authFailuresPerMinute: 5 })
  })

  it.each(['TRPC_MAX_BATCH', 'SSE_MAX_STREAMS', 'SSE_MAX_STREAMS_PER_IP', 'AUTH_FAILURES_PER_MINUTE'])('a bad %s names the variable', (name) => {
    expect(() => loadConfig({ [name]: '0' })).toThrow(new RegExp(`${name} must be a whole number`))
  })
})

describe('CORS_ORIGINS and OTEL_*', () => {
  it('default: no cross-origin access, tracing off', () => {
    const c = loadConfig({})
    expect(c.corsOrigins).toBeUndefined()
    expect(c.tracing).toBeUndefined()
  })

  it('CORS_ORIGINS takes comma-separated origins and refuses anything that is not one', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://shop.example, http://localhost:5173,https://shop.example' }).corsOrigins).toEqual([
      'https://shop.example',
      'http://localhost:5173',
    ])
    for (const bad of ['shop.example', 'https://shop.example/', 'https://shop.example/path', 'ftp://shop.example', '*'])
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS must be comma-separated origins/)
  })

  it('tracing is on when an OTLP endpoint or an exporter is named, off with none or OTEL_SDK_DISABLED', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing).toEqual({
      exporter: 'otlp',
      protocol: 'http/protobuf',
      sampleRatio: 1,
      parentBased: true,
    })
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).tracing).toEqual({
      exporter: 'otlp',
      protocol: 'http/json',
      sampleRatio: 1,
      parentBased: true,
    })
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).tracing).toEqual({ exporter: 'otlp', protocol: 'http/protobuf', sampleRatio: 1, parentBased: true })
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'console' }).tracing?.exporter).toBe('console')
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).tracing).toBeUndefined()
    expect(loadConfig({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).tracing).toBeUndefined()
    // Other OTEL_* variables alone (a service name) do not turn it on.
    expect(loadConfig({ OTEL_SERVICE_NAME: 'x' }).tracing).toBeUndefined()
  })

  it('OTEL_TRACES_SAMPLER and _ARG choose the share of traces kept', () => {
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }
    expect(loadConfig({ ...on, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }).tracing).toMatchObject({
      sampleRatio: 0.1,
      parentBased: true,
    })
    expect(loadConfig({ ...on, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' }).tracing).toMatchObject({
      sampleRatio: 0.5,
      parentBased: false,
    })
    expect(loadConfig({ ...on, OTEL_TRACES_SAMPLER: 'always_off' }).tracing).toMatchObject({ sampleRatio: 0, parentBased: false })
    expect(() => loadConfig({ ...on, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(
      /OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1/,
    )
    expect(() => loadConfig({ ...on, OTEL_TRACES_SAMPLER: 'jaeger_remote' })).toThrow(/OTEL_TRACES_SAMPLER must be one of/)
  })

  it('an exporter or protocol slotsync cannot serve stops the start with the variable named', () => {
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/OTEL_TRACES_EXPORTER must be otlp, console or none/)
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json/,
    )
  })
})

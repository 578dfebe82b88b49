import type { onResponseHookHandler } from 'fastify'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { FreshnessClass } from '../sync/tiers.ts'

/**
 * Prometheus metrics for /metrics. Three sources:
 * - the sync engine reports each partner request and each pass through
 *   `observer` (the engine calls it; nothing here reaches into sync);
 * - gauges about sync state are computed at scrape time from the same
 *   status the public `sync.status` procedure returns, so /metrics, the
 *   dashboard and the API cannot disagree;
 * - a Fastify onResponse hook counts API requests by route pattern.
 * Names follow Prometheus conventions: `slotsync_` prefix, base units
 * (`_seconds`), `_total` on counters. Process defaults keep their standard
 * `process_` / `nodejs_` names so stock Node.js dashboards work.
 */

export const PARTNER_OUTCOMES = ['ok', 'empty', 'error', 'invalid', 'rate_limited'] as const
export type PartnerOutcome = (typeof PARTNER_OUTCOMES)[number]
/** The status's per-tier classes (freshnessClass, sync/tiers.ts); a day never fetched is counted due. */
export const PAIR_STATES = ['fresh', 'due', 'overdue'] as const satisfies readonly FreshnessClass[]

/** What the sync engine reports (the engine is handed this object; see createSync's `observer`). */
export interface SyncObserver {
  partnerRequest(outcome: PartnerOutcome, latencyMs: number): void
  pass(durationMs: number): void
}

/**
 * The part of sync status the gauges read. Fields the status is growing
 * (per-tier oldest fetch) are optional, so this works with and without them.
 */
export interface StatusForMetrics {
  paused: boolean
  running: boolean
  queue: number
  inFlight: number
  neverFetched: number
  tiers: Record<string, { total: number; fresh: number; due: number; overdue: number; oldestFetchedAt?: string | null }>
  budget: { limitPerMinute: number; usedLastMinute: number; usedToday: number; haltedUntil: string | null }
  lastSuccessAt: string | null
  oldestServedFetchedAt: string | null
  products: { active: number; paused: number }
  failingProducts: { productId: number; failingDays: number }[]
  partner?: { state: string; consecutiveFailures: number }
}

export interface MetricsOptions {
  /** Sync status, read at each scrape; undefined while sync is not wired yet (start-up). */
  syncStatus: () => Promise<StatusForMetrics> | undefined
  now?: () => number
  /** Process and Node.js defaults (CPU, memory, event loop lag, GC); on unless turned off. */
  processDefaults?: boolean
  /** Change-feed streams open on this instance now (the API's stream slots). */
  openStreams?: () => number
}

export interface Metrics {
  registry: Registry
  observer: SyncObserver
  /** Change feed: `count` events were appended. */
  changeEvents(count: number): void
  /** Register on the root Fastify instance before the routes it should count. */
  onResponse: onResponseHookHandler
  /** The text exposition and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>
}

// Partner answers take 0.3–4 s at worst (issue 11); requests are cut at the client timeout.
const PARTNER_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30]
const PASS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60]
const API_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
const seconds = (ms: number) => Math.max(0, ms) / 1000

export function createMetrics(o: MetricsOptions): Metrics {
  const now = o.now ?? Date.now
  const registry = new Registry()
  if (o.processDefaults !== false) collectDefaultMetrics({ register: registry })
  const reg = [registry]

  const partnerRequests = new Counter({
    name: 'slotsync_partner_requests_total',
    help: 'Requests sent to the partner, by outcome',
    labelNames: ['outcome'],
    registers: reg,
  })
  // Every outcome exists from the start at 0, so increase() sees the first 429.
  for (const outcome of PARTNER_OUTCOMES) partnerRequests.inc({ outcome }, 0)
  const partnerLatency = new Histogram({
    name: 'slotsync_partner_request_duration_seconds',
    help: 'Time from sending a partner request to its answer',
    buckets: PARTNER_BUCKETS,
    registers: reg,
  })
  const passDuration = new Histogram({
    name: 'slotsync_sync_pass_duration_seconds',
    help: 'Duration of sync passes (the _count is the number of passes)',
    buckets: PASS_BUCKETS,
    registers: reg,
  })
  const changeEvents = new Counter({ name: 'slotsync_change_events_total', help: 'Change events appended to the change feed', registers: reg })
  const apiRequests = new Counter({
    name: 'slotsync_api_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: reg,
  })
  const apiDuration = new Histogram({
    name: 'slotsync_api_request_duration_seconds',
    help: 'HTTP request duration, by route pattern and method',
    labelNames: ['route', 'method'],
    buckets: API_BUCKETS,
    registers: reg,
  })

  const openStreams = o.openStreams
  if (openStreams)
    new Gauge({
      name: 'slotsync_open_streams',
      help: 'Change-feed streams (SSE, REST and tRPC) open on this instance',
      registers: reg,
      collect() {
        this.set(openStreams())
      },
    })

  syncGauges(reg, o.syncStatus, now)

  return {
    registry,
    observer: {
      partnerRequest(outcome, latencyMs) {
        partnerRequests.inc({ outcome })
        partnerLatency.observe(seconds(latencyMs))
      },
      pass(durationMs) {
        passDuration.observe(seconds(durationMs))
      },
    },
    changeEvents(count) {
      if (count > 0) changeEvents.inc(count)
    },
    onResponse(req, reply, done) {
      // The route pattern (`/api/v1/experience/:id/slots`), never the raw URL:
      // ids and dates in paths would make one series per request.
      const route = req.routeOptions.url ?? 'unmatched'
      const method = req.method
      apiRequests.inc({ route, method, status: String(reply.statusCode) })
      apiDuration.observe({ route, method }, seconds(reply.elapsedTime))
      done()
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() }
    },
  }
}

/**
 * Gauges filled from one status read per scrape: prom-client calls every
 * gauge's collect() at once, and they share the read begun by the first.
 */
function syncGauges(registers: Registry[], read: MetricsOptions['syncStatus'], now: () => number) {
  // prom-client starts every collect() in the same tick of a scrape, so the
  // first starts the read and the others join it; it is dropped once settled,
  // so the next scrape reads anew. A failed read leaves the gauges empty
  // (and status_up 0) rather than failing the whole scrape.
  let pending: Promise<StatusForMetrics | undefined> | undefined
  const load = () => {
    if (pending) return pending
    const p = Promise.resolve()
      .then(read)
      .catch(() => undefined)
      .finally(() => {
        if (pending === p) pending = undefined
      })
    pending = p
    return p
  }
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: StatusForMetrics, at: number) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const s = await load()
        // Labelled series of a previous scrape (a tier, a failing product) must not linger.
        this.reset()
        if (s) fill(this, s, now())
      },
    })
  const ageSeconds = (iso: string | null | undefined, at: number) => (iso ? Math.max(0, (at - Date.parse(iso)) / 1000) : undefined)
  const setIf = (g: Gauge, v: number | undefined, labels: Record<string, string> = {}) => v !== undefined && g.set(labels, v)

  new Gauge({
    name: 'slotsync_sync_status_up',
    help: '1 when the sync status could be read for this scrape, else 0 (the sync gauges are then absent)',
    registers,
    async collect() {
      this.set((await load()) ? 1 : 0)
    },
  })
  gauge('slotsync_sync_paused', '1 while sync is paused as a whole', [], (g, s) => g.set(s.paused ? 1 : 0))
  gauge('slotsync_sync_running', '1 while this instance schedules fetches (engine running, not paused)', [], (g, s) => g.set(s.running ? 1 : 0))
  gauge(
    'slotsync_sync_pairs',
    '(product, date) pairs in the horizon by freshness tier and age against its target: fresh (within), due (up to twice; or never fetched), overdue (older)',
    ['tier', 'state'],
    (g, s) => {
      for (const [tier, c] of Object.entries(s.tiers)) for (const state of PAIR_STATES) g.set({ tier, state }, c[state])
    },
  )
  gauge('slotsync_sync_oldest_age_seconds', 'Age of the oldest fetched day per tier (absent until the status reports it)', ['tier'], (g, s, at) => {
    for (const [tier, c] of Object.entries(s.tiers)) setIf(g, ageSeconds(c.oldestFetchedAt, at), { tier })
  })
  gauge('slotsync_sync_oldest_served_age_seconds', 'Age of the oldest fetched day served, all tiers', [], (g, s, at) =>
    setIf(g, ageSeconds(s.oldestServedFetchedAt, at)),
  )
  gauge('slotsync_sync_never_fetched_pairs', '(product, date) pairs in the horizon never fetched yet (first-pass progress)', [], (g, s) =>
    g.set(s.neverFetched),
  )
  gauge('slotsync_sync_queue_pairs', '(product, date) pairs due now, queued by run or in flight', [], (g, s) => g.set(s.queue))
  gauge('slotsync_sync_in_flight_requests', 'Partner requests this instance has in flight', [], (g, s) => g.set(s.inFlight))
  gauge('slotsync_sync_last_success_timestamp_seconds', 'When a fetch last succeeded (Unix time)', [], (g, s) =>
    setIf(g, s.lastSuccessAt ? Date.parse(s.lastSuccessAt) / 1000 : undefined),
  )
  gauge('slotsync_partner_budget_used_requests', 'Partner requests in the current 60 s window, all instances', [], (g, s) => g.set(s.budget.usedLastMinute))
  gauge('slotsync_partner_budget_limit_requests', 'Partner requests allowed per 60 s window', [], (g, s) => g.set(s.budget.limitPerMinute))
  gauge('slotsync_partner_budget_used_today_requests', 'Partner requests since midnight (sync time zone)', [], (g, s) => g.set(s.budget.usedToday))
  gauge('slotsync_partner_halted', '1 while every instance waits for a 429 reset', [], (g, s, at) =>
    g.set(s.budget.haltedUntil && Date.parse(s.budget.haltedUntil) > at ? 1 : 0),
  )
  gauge('slotsync_partner_backing_off', '1 while the partner fails persistently and sending is down to probes, all instances', [], (g, s) =>
    setIf(g, s.partner && (s.partner.state === 'backing-off' ? 1 : 0)),
  )
  gauge('slotsync_partner_consecutive_failures', 'Partner failures in a row (5xx, timeouts, network), all days and instances', [], (g, s) =>
    setIf(g, s.partner?.consecutiveFailures),
  )
  gauge('slotsync_products', 'Products by state', ['state'], (g, s) => {
    g.set({ state: 'active' }, s.products.active)
    g.set({ state: 'paused' }, s.products.paused)
  })
  // One series per failing product: bounded, the status lists at most 50.
  gauge('slotsync_sync_product_failing_days', 'Days of a product whose latest fetch failed (only failing products)', ['product_id'], (g, s) => {
    for (const f of s.failingProducts) g.set({ product_id: String(f.productId) }, f.failingDays)
  })
}

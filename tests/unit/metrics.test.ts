import { describe, expect, it } from 'vitest'
import { createMetrics, PARTNER_OUTCOMES, type StatusForMetrics } from '../../server/observability/metrics.ts'
import { parseExposition, sampleValue } from '../helpers/prometheus.ts'

const NOW = Date.parse('2026-12-01T10:00:00.000Z')

function status(over: Partial<StatusForMetrics> = {}): StatusForMetrics {
  return {
    paused: false,
    running: true,
    queue: 12,
    inFlight: 3,
    neverFetched: 4000,
    tiers: {
      today: { total: 450, fresh: 400, due: 40, overdue: 10, oldestFetchedAt: '2026-12-01T09:45:00.000Z' },
      week: { total: 3150, fresh: 3000, due: 100, overdue: 50, oldestFetchedAt: null },
    },
    budget: { limitPerMinute: 30, usedLastMinute: 29, usedToday: 10_000, haltedUntil: null },
    lastSuccessAt: '2026-12-01T09:59:30.000Z',
    oldestServedFetchedAt: '2026-11-30T10:00:00.000Z',
    products: { active: 450, paused: 2 },
    failingProducts: [{ productId: 14, failingDays: 3 }],
    partner: { state: 'ok', consecutiveFailures: 2 },
    ...over,
  }
}

async function scrape(m: ReturnType<typeof createMetrics>) {
  const { body, contentType } = await m.scrape()
  expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/)
  return parseExposition(body)
}

describe('metrics: the engine and change-feed hooks', () => {
  it('partner requests count by outcome, every outcome present from the start at 0', async () => {
    const m = createMetrics({ syncStatus: () => undefined, processDefaults: false })
    let f = await scrape(m)
    for (const outcome of PARTNER_OUTCOMES) expect(sampleValue(f, 'slotsync_partner_requests_total', { outcome })).toBe(0)

    m.observer.partnerRequest('ok', 300)
    m.observer.partnerRequest('ok', 1_500)
    m.observer.partnerRequest('rate_limited', 40)
    m.observer.partnerRequest('invalid', 9_000)
    f = await scrape(m)
    expect(sampleValue(f, 'slotsync_partner_requests_total', { outcome: 'ok' })).toBe(2)
    expect(sampleValue(f, 'slotsync_partner_requests_total', { outcome: 'rate_limited' })).toBe(1)
    expect(sampleValue(f, 'slotsync_partner_requests_total', { outcome: 'invalid' })).toBe(1)
    expect(sampleValue(f, 'slotsync_partner_requests_total', { outcome: 'error' })).toBe(0)
    // Latency in seconds: 0.04 + 0.3 + 1.5 + 9.
    expect(sampleValue(f, 'slotsync_partner_request_duration_seconds_count')).toBe(4)
    expect(sampleValue(f, 'slotsync_partner_request_duration_seconds_sum')).toBeCloseTo(10.84, 6)
    expect(sampleValue(f, 'slotsync_partner_request_duration_seconds_bucket', { le: '0.5' })).toBe(2)
    expect(sampleValue(f, 'slotsync_partner_request_duration_seconds_bucket', { le: '2' })).toBe(3)
    expect(sampleValue(f, 'slotsync_partner_request_duration_seconds_bucket', { le: '+Inf' })).toBe(4)
  })

  it('passes and change events', async () => {
    const m = createMetrics({ syncStatus: () => undefined, processDefaults: false })
    m.observer.pass(20)
    m.observer.pass(2_500)
    m.changeEvents(5)
    m.changeEvents(0)
    m.changeEvents(2)
    const f = await scrape(m)
    expect(sampleValue(f, 'slotsync_sync_pass_duration_seconds_count')).toBe(2)
    expect(sampleValue(f, 'slotsync_sync_pass_duration_seconds_sum')).toBeCloseTo(2.52, 6)
    expect(sampleValue(f, 'slotsync_change_events_total')).toBe(7)
  })
})

describe('metrics: sync gauges come from the status at scrape time', () => {
  it('one status read per scrape feeds every gauge', async () => {
    let reads = 0
    let s = status()
    const m = createMetrics({
      syncStatus: async () => {
        reads++
        return s
      },
      now: () => NOW,
      processDefaults: false,
    })
    let f = await scrape(m)
    expect(reads).toBe(1)
    expect(sampleValue(f, 'slotsync_sync_status_up')).toBe(1)
    expect(sampleValue(f, 'slotsync_sync_pairs', { tier: 'today', state: 'fresh' })).toBe(400)
    expect(sampleValue(f, 'slotsync_sync_pairs', { tier: 'week', state: 'overdue' })).toBe(50)
    expect(sampleValue(f, 'slotsync_sync_oldest_age_seconds', { tier: 'today' })).toBe(900)
    // Never fetched in the tier: no age rather than a made-up one.
    expect(sampleValue(f, 'slotsync_sync_oldest_age_seconds', { tier: 'week' })).toBeUndefined()
    expect(sampleValue(f, 'slotsync_sync_oldest_served_age_seconds')).toBe(86_400)
    expect(sampleValue(f, 'slotsync_sync_never_fetched_pairs')).toBe(4000)
    expect(sampleValue(f, 'slotsync_sync_queue_pairs')).toBe(12)
    expect(sampleValue(f, 'slotsync_sync_in_flight_requests')).toBe(3)
    expect(sampleValue(f, 'slotsync_partner_budget_used_requests')).toBe(29)
    expect(sampleValue(f, 'slotsync_partner_budget_limit_requests')).toBe(30)
    expect(sampleValue(f, 'slotsync_partner_halted')).toBe(0)
    expect(sampleValue(f, 'slotsync_partner_backing_off')).toBe(0)
    expect(sampleValue(f, 'slotsync_partner_consecutive_failures')).toBe(2)
    expect(sampleValue(f, 'slotsync_sync_paused')).toBe(0)
    expect(sampleValue(f, 'slotsync_products', { state: 'paused' })).toBe(2)
    expect(sampleValue(f, 'slotsync_sync_product_failing_days', { product_id: '14' })).toBe(3)
    expect(sampleValue(f, 'slotsync_sync_last_success_timestamp_seconds')).toBe(Date.parse('2026-12-01T09:59:30.000Z') / 1000)

    // The next scrape reads again; a product that recovered leaves no series behind.
    s = status({
      paused: true,
      failingProducts: [],
      budget: { limitPerMinute: 30, usedLastMinute: 0, usedToday: 1, haltedUntil: '2026-12-01T10:00:30.000Z' },
      partner: { state: 'backing-off', consecutiveFailures: 7 },
    })
    f = await scrape(m)
    expect(reads).toBe(2)
    expect(sampleValue(f, 'slotsync_sync_paused')).toBe(1)
    expect(sampleValue(f, 'slotsync_partner_halted')).toBe(1)
    expect(sampleValue(f, 'slotsync_partner_backing_off')).toBe(1)
    expect(sampleValue(f, 'slotsync_partner_consecutive_failures')).toBe(7)
    expect(sampleValue(f, 'slotsync_sync_product_failing_days', { product_id: '14' })).toBeUndefined()
  })

  it('a status without per-tier oldest ages (older servers) still scrapes', async () => {
    const s = status()
    for (const t of Object.values(s.tiers)) delete t.oldestFetchedAt
    const f = await scrape(createMetrics({ syncStatus: async () => s, now: () => NOW, processDefaults: false }))
    expect(f.get('slotsync_sync_oldest_age_seconds')!.samples).toEqual([])
    expect(sampleValue(f, 'slotsync_sync_pairs', { tier: 'today', state: 'due' })).toBe(40)
  })

  it('a failing status read leaves the sync gauges empty and status_up 0, the scrape still answers', async () => {
    const m = createMetrics({ syncStatus: async () => Promise.reject(new Error('database down')), processDefaults: false })
    m.observer.partnerRequest('error', 10)
    const f = await scrape(m)
    expect(sampleValue(f, 'slotsync_sync_status_up')).toBe(0)
    expect(f.get('slotsync_sync_pairs')!.samples).toEqual([])
    expect(sampleValue(f, 'slotsync_partner_requests_total', { outcome: 'error' })).toBe(1)
  })
})

describe('metrics: names and labels follow Prometheus conventions', () => {
  it('every family parses; ours are slotsync_*, counters end in _total, durations in _seconds; process defaults are there', async () => {
    const m = createMetrics({ syncStatus: async () => status(), now: () => NOW })
    m.observer.partnerRequest('ok', 100)
    const f = await scrape(m)
    const ours = [...f.values()].filter((x) => x.name.startsWith('slotsync_'))
    expect(ours.length).toBeGreaterThanOrEqual(20)
    for (const fam of ours) {
      expect(fam.help, fam.name).not.toBe('')
      if (fam.type === 'counter') expect(fam.name).toMatch(/_total$/)
      else expect(fam.name).not.toMatch(/_total$/)
      if (fam.type === 'histogram') expect(fam.name).toMatch(/_seconds$/)
      if (/duration|age|latency/.test(fam.name)) expect(fam.name).toMatch(/_seconds$/)
      for (const s of fam.samples) expect(Number.isFinite(s.value), `${s.name} ${JSON.stringify(s.labels)}`).toBe(true)
    }
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes'])
      expect(f.has(name), name).toBe(true)
  })
})

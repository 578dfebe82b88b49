import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { addDays } from '../../server/calendar/days.ts'
import { manualClock } from '../../server/clock.ts'
import { createPartnerClient, type FetchDayResult, type PartnerClientOptions } from '../../server/partner/client.ts'
import { startSandbox, type Sandbox } from '../../server/sandbox/server.ts'
import { captureLogger } from '../helpers/sync.ts'

/**
 * Issue 25: a partner answer can cost at most the day it answers. Real
 * sandbox over HTTP; the sandbox streams its huge bodies, so the memory
 * measured here is the client's.
 */
const T0 = Date.UTC(2026, 11, 1, 2)
const MB = 1024 * 1024
const failure = (r: FetchDayResult) => (r.ok ? { kind: 'ok' } : { kind: r.error.kind, message: r.error.message, retryAt: r.error.retryAt })

let sb: Sandbox
let date: string
const clock = manualClock(T0)
const log = captureLogger()
const client = (over: Partial<PartnerClientOptions> = {}) => createPartnerClient({ baseUrl: sb.url, apiKey: sb.apiKey, clock, logger: log.logger, ...over })

beforeAll(async () => {
  sb = await startSandbox({ products: 0, rateLimitPerMinute: 100_000, clock })
  date = addDays('2026-12-01', 10)
  // Loads fetch's HTTP stack, a one-time cost the RSS measurement below must not count.
  await client().fetchDay(14, date)
})
afterAll(() => sb.close())
beforeEach(() => {
  sb.setFaults({})
  sb.resetStats()
  log.lines.length = 0
})

describe('a body over PARTNER_MAX_BODY_BYTES', () => {
  it('of 50 MB without Content-Length: cut off at the cap, rejected with the reason, RSS up by far less than the body', async () => {
    sb.setFaults({ hugeBodyRate: 1, hugeBodyBytes: 50_000_000 })
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 1)
    const r = await client().fetchDay(14, date)
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage().rss)
    expect(failure(r)).toMatchObject({ kind: 'invalid_response', message: 'body over 5000000 bytes' })
    expect(sb.stats().faults.hugeBody).toBe(1)
    // The bound, with the cap's own 5 MB (and the text made of it) well inside it.
    expect(peak - before, `RSS rose ${((peak - before) / MB).toFixed(1)} MB`).toBeLessThan(50 * MB)
    const rejected = log.lines.filter((l) => l.msg === 'partner day rejected')
    expect(rejected).toEqual([{ level: 'warn', msg: 'partner day rejected', obj: { productId: 14, date, reason: 'body over 5000000 bytes' } }])
  })

  it('announced by Content-Length: rejected before reading it', async () => {
    sb.setFaults({ hugeBodyRate: 1, hugeBodyBytes: 50_000_000, hugeBodyDeclared: true })
    const r = await client().fetchDay(14, date)
    expect(failure(r)).toMatchObject({ kind: 'invalid_response', message: 'body over 5000000 bytes (Content-Length 50000000)' })
  })

  it('follows the configured cap, and a padded body under it is still the day (the fault serves valid JSON)', async () => {
    sb.setFaults({ hugeBodyRate: 1, hugeBodyBytes: 200_000 })
    expect(failure(await client({ maxBodyBytes: 100_000 }).fetchDay(14, date))).toMatchObject({ message: 'body over 100000 bytes' })
    const ok = await client({ maxBodyBytes: 300_000 }).fetchDay(14, date)
    expect(ok.ok).toBe(true)
  })

  it('a next request on the same client still works (the cut connection is not reused)', async () => {
    sb.setFaults({ hugeBodyRate: 1, hugeBodyBytes: 20_000_000 })
    const c = client()
    expect((await c.fetchDay(14, date)).ok).toBe(false)
    sb.setFaults({})
    expect((await c.fetchDay(14, date)).ok).toBe(true)
  })
})

describe('a day over PARTNER_MAX_SLOTS', () => {
  it('of 20 000 valid slots is rejected with a logged reason', async () => {
    sb.setFaults({ manySlotsRate: 1, manySlots: 20_000 })
    const r = await client().fetchDay(14, date)
    expect(failure(r)).toMatchObject({ kind: 'invalid_response', message: 'response breaks the contract: body: 20000 slots, over the limit of 2000' })
    expect(log.lines.find((l) => l.msg === 'partner day rejected')?.obj).toMatchObject({ reason: /20000 slots, over the limit of 2000/ })
  })

  it('at the limit is taken whole', async () => {
    sb.setFaults({ manySlotsRate: 1, manySlots: 2_000 })
    const r = await client().fetchDay(14, date)
    expect(r.ok && r.slots.length).toBe(2_000)
  })
})

describe('a 429 with an absurd reset', () => {
  const TEN_YEARS = 10 * 365 * 86_400_000
  it.each([
    ['a reset ten years out', { rateLimitReset: T0 + TEN_YEARS }],
    ['a reset of 1e20', { rateLimitReset: 1e20 }],
    ['a reset in epoch microseconds ten years out', { rateLimitReset: (T0 + TEN_YEARS) * 1000 }],
    ['Retry-After: 99999999', { retryAfter: '99999999' }],
    ['a negative reset', { rateLimitReset: -1, retryAfter: '-1' }],
  ])('%s waits at most PARTNER_MAX_HALT_S', async (_, fault) => {
    sb.setFaults({ rateLimitRate: 1, ...fault })
    for (const maxHaltMs of [300_000, 30_000]) {
      const r = await client({ maxHaltMs }).fetchDay(14, date)
      const f = failure(r)
      expect(f.kind).toBe('rate_limited')
      expect(f.retryAt).toBeGreaterThanOrEqual(T0 + 1_000)
      expect(f.retryAt).toBeLessThanOrEqual(T0 + maxHaltMs)
    }
    expect(sb.stats().faults.rateLimit).toBe(2)
  })
})

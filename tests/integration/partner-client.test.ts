import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { addDays } from '../../server/calendar/days.ts'
import { manualClock, systemClock, type Clock } from '../../server/clock.ts'
import { loggerOptions, type Logger } from '../../server/logger.ts'
import { createPartnerClient, DEFAULT_RATE_LIMIT_WAIT_MS, type PartnerClientOptions } from '../../server/partner/client.ts'
import { validateDay } from '../../server/partner/schema.ts'
import { startSandbox, type Sandbox } from '../../server/sandbox/server.ts'

/** A day of product 14 with slots, far enough ahead that no booking changes it during a test. */
function openDay(sb: Sandbox, clock: Clock, from = 30): string {
  for (let i = from; i < from + 7; i++) {
    const date = addDays(new Date(clock.now()).toISOString().slice(0, 10), i)
    if (sb.catalogue.inventory(14, date, clock.now()).length) return date
  }
  throw new Error('no open day for product 14')
}

/** The project's pino configuration writing into memory. */
function capturePino(): { logger: Logger; text(): string; lines(): Record<string, unknown>[]; close(): Promise<void> } {
  let text = ''
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk)
      cb()
    },
  })
  const app = Fastify({ logger: loggerOptions('debug', stream) })
  return {
    logger: app.log,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    close: () => app.close(),
  }
}

describe('partner client against the sandbox', () => {
  let sb: Sandbox
  let date: string
  const client = (over: Partial<PartnerClientOptions> = {}) => createPartnerClient({ baseUrl: sb.url, apiKey: sb.apiKey, ...over })

  beforeAll(async () => {
    sb = await startSandbox({ products: 3, rateLimitPerMinute: 100_000 })
    date = openDay(sb, systemClock)
  })
  afterAll(() => sb.close())
  beforeEach(() => {
    sb.setFaults({})
    sb.resetStats()
  })

  it('fetches a day: validated slots equal to what the sandbox served, one attempt', async () => {
    const r = await client().fetchDay(14, `${date}`)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.attempts).toBe(1)
    expect(r.latencyMs).toBeGreaterThanOrEqual(0)
    expect(r.slots).toHaveLength(9)
    const served = sb.lastServed(14, date)!
    expect(r.slots).toEqual((validateDay(served.body, date) as { slots: unknown }).slots)
    expect(r.slots[0]!.paxAvailability[0]!.price.finalPrice).toMatch(/^\d+\.\d{2}$/)
  })

  it('reports a 5xx as an http failure with its status, after one request', async () => {
    sb.setFaults({ errorRate: 1 })
    const r = await client().fetchDay(14, date)
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.kind).toBe('http')
    expect([500, 502, 503, 504]).toContain(r.error.status)
    expect(r.error.message).toBe(`partner answered HTTP ${r.error.status}`)
    expect(sb.stats().requests).toBe(1)
  })

  it('times out a hung request within a bounded time, after one request', async () => {
    sb.setFaults({ timeoutRate: 1, hangMs: 20_000 })
    const t0 = Date.now()
    const r = await client({ timeoutMs: 150 }).fetchDay(14, date)
    expect(r.ok ? 'ok' : [r.error.kind, r.error.message]).toEqual(['timeout', 'partner did not answer within 150 ms'])
    expect(r.latencyMs).toBeGreaterThanOrEqual(140)
    expect(Date.now() - t0).toBeLessThan(2_000)
    expect(sb.stats().byStatus.hung).toBe(1)
  })

  it('reports a dropped connection as a network failure', async () => {
    sb.setFaults({ dropRate: 1 })
    const r = await client().fetchDay(14, date)
    expect(r.ok ? 'ok' : r.error.kind).toBe('network')
    expect(sb.stats().byStatus.dropped).toBe(1)
  })

  it('accepts a slow answer inside the timeout and times out one beyond it', async () => {
    sb.setFaults({ slowRate: 1, slowMs: 200 })
    const slow = await client({ timeoutMs: 2_000 }).fetchDay(14, date)
    expect(slow.ok).toBe(true)
    expect(slow.latencyMs).toBeGreaterThanOrEqual(190)
    const late = await client({ timeoutMs: 80 }).fetchDay(14, date)
    expect(late.ok || late.error.kind).toBe('timeout')
  })

  it('rejects malformed JSON and logs why at warn, with product and date', async () => {
    sb.setFaults({ malformedRate: 1 })
    const log = capturePino()
    const r = await client({ logger: log.logger }).fetchDay(14, date)
    expect(r.ok ? 'ok' : [r.error.kind, r.attempts]).toEqual(['invalid_response', 1])
    expect(sb.stats().requests).toBe(1)
    const warn = log.lines().find((l) => l.msg === 'partner day rejected')
    expect(warn).toMatchObject({ level: 40, productId: 14, date })
    expect(String(warn?.reason)).toContain('malformed JSON')
    await log.close()
  })

  it('rejects every wrong-shape variant whole, never a partial day', async () => {
    sb.setFaults({ wrongShapeRate: 1 })
    const c = client()
    const reasons = new Set<string>()
    for (let i = 0; i < 40; i++) {
      const r = await c.fetchDay(1000 + (i % 3), addDays(date, i % 20))
      expect(r.ok ? 'accepted' : [r.error.kind, r.attempts]).toEqual(['invalid_response', 1])
      if (!r.ok) reasons.add(r.error.message.replace(/\d+/g, 'N').split(':').slice(0, 2).join(':'))
    }
    expect(reasons.size).toBeGreaterThanOrEqual(5)
  })

  it('rejects negative numbers and slots of another day served as a 200', async () => {
    const body = sb.catalogue.inventory(14, date, Date.now())
    const negative = structuredClone(body)
    negative[3]!.paxAvailability[0]!.price.finalPrice = -1
    sb.setDay(14, date, negative)
    const r1 = await client().fetchDay(14, date)
    expect(r1.ok ? 'ok' : r1.error.message).toMatch(/3\.paxAvailability\.0\.price\.finalPrice: must not be negative/)
    sb.setDay(
      14,
      date,
      body.map((s) => ({ ...s, startDate: addDays(date, 1) })),
    )
    const r2 = await client().fetchDay(14, date)
    expect(r2.ok ? 'ok' : r2.error.message).toMatch(/is not the day asked for/)
    sb.setDay(14, date, undefined)
    expect((await client().fetchDay(14, date)).ok).toBe(true)
  })

  it('takes an empty answer for a day that had slots as empty: the contract cannot tell it from sold out', async () => {
    sb.setFaults({ emptyRate: 1 })
    expect(sb.catalogue.inventory(14, date, Date.now()).length).toBe(9)
    const r = await client().fetchDay(14, date)
    expect(r.ok && r.slots).toEqual([])
    expect(sb.lastServed(14, date)?.body).toEqual([])
  })

  it('maps 401 to unauthorized and keeps the key out of the message', async () => {
    const r = await client({ apiKey: 'wrong-key-4711' }).fetchDay(14, date)
    expect(r.ok ? 'ok' : [r.error.kind, r.error.status]).toEqual(['unauthorized', 401])
    expect(JSON.stringify(r) + (r.ok ? '' : r.error.stack)).not.toContain('wrong-key-4711')
    expect(sb.stats().unauthorized).toBe(1)
  })

  it('reports other 4xx answers as http failures with their status', async () => {
    const r = await client().fetchDay(14, '2026-02-30')
    expect(r.ok ? 'ok' : [r.error.kind, r.error.status]).toEqual(['http', 400])
  })

  it('rejects (does not report a partner failure) when the caller aborts', async () => {
    sb.setFaults({ timeoutRate: 1, hangMs: 20_000 })
    const ctrl = new AbortController()
    setTimeout(() => ctrl.abort(), 50)
    await expect(client({ timeoutMs: 5_000 }).fetchDay(14, date, ctrl.signal)).rejects.toThrow(/abort/i)
  })
})

describe('partner client and the rate limit', () => {
  it('turns a 429 into a rate-limited failure carrying the reset, and holds nothing itself (the engine halts)', async () => {
    const t0 = Date.UTC(2026, 11, 1, 2)
    const clock = manualClock(t0)
    const sb = await startSandbox({ products: 0, rateLimitPerMinute: 2, clock })
    try {
      const date = openDay(sb, clock, 10)
      const log = capturePino()
      const c = createPartnerClient({ baseUrl: sb.url, apiKey: sb.apiKey, clock, logger: log.logger })
      expect((await c.fetchDay(14, date)).ok).toBe(true)
      expect((await c.fetchDay(15, date)).ok).toBe(true)
      clock.advance(15_000)
      const limited = await c.fetchDay(14, addDays(date, 1))
      expect(limited.ok ? 'ok' : [limited.error.kind, limited.error.status, limited.error.retryAt]).toEqual(['rate_limited', 429, t0 + 60_000])
      expect(log.lines().find((l) => l.msg === 'partner rate limit hit')).toMatchObject({ level: 40, productId: 14, resetAt: t0 + 60_000, waitMs: 45_000 })
      await log.close()
      expect(limited.ok || limited.error.message).toBe(`partner rate limit reached; allowed again at ${new Date(t0 + 60_000).toISOString()}`)
      // No local hold: the next call goes straight out (and is refused again), so nothing but the shared budget delays a send.
      const again = await c.fetchDay(14, addDays(date, 2))
      expect(again.ok || again.error.kind).toBe('rate_limited')
      expect(sb.stats()).toMatchObject({ requests: 4, rateLimited: 2 })
      clock.set(t0 + 60_000)
      expect((await c.fetchDay(14, addDays(date, 3))).ok).toBe(true)
    } finally {
      await sb.close()
    }
  })

  it('falls back to a default wait when a 429 comes without a body', async () => {
    const clock = manualClock(Date.UTC(2026, 11, 1, 2))
    const sb = await startSandbox({ products: 0, clock, faults: { rateLimitNoBodyRate: 1 } })
    try {
      const c = createPartnerClient({ baseUrl: sb.url, apiKey: sb.apiKey, clock })
      const r = await c.fetchDay(14, openDay(sb, clock, 10))
      expect(r.ok ? 'ok' : [r.error.kind, r.error.retryAt]).toEqual(['rate_limited', clock.now() + DEFAULT_RATE_LIMIT_WAIT_MS])
      expect(sb.stats().byStatus['429']).toBe(1)
      expect(sb.stats().requests).toBe(1)
    } finally {
      await sb.close()
    }
  })
})

describe('the API key stays secret', () => {
  it('never appears in captured logs or in any result, across every outcome', async () => {
    const key = 'sk-live-5ecret-partner-key-9731'
    const sb = await startSandbox({ products: 3, apiKey: key, rateLimitPerMinute: 100_000 })
    const log = capturePino()
    try {
      const date = openDay(sb, systemClock)
      const c = createPartnerClient({ baseUrl: sb.url, apiKey: key, logger: log.logger, timeoutMs: 200 })
      const results = []
      results.push(await c.fetchDay(14, date))
      for (const faults of [
        { errorRate: 1 },
        { malformedRate: 1 },
        { wrongShapeRate: 1 },
        { dropRate: 1 },
        { timeoutRate: 1, hangMs: 5_000 },
        { rateLimitNoBodyRate: 1 },
      ]) {
        sb.setFaults(faults)
        results.push(await c.fetchDay(14, date))
      }
      const kinds = results.map((r) => (r.ok ? 'ok' : r.error.kind))
      expect(kinds).toEqual(['ok', 'http', 'invalid_response', 'invalid_response', 'network', 'timeout', 'rate_limited'])
      const levels = new Set(log.lines().map((l) => l.level))
      expect([...levels].sort()).toEqual([20, 40])
      expect(log.text()).toContain('"productId":14')
      expect(log.text()).not.toContain(key)
      expect(log.text()).not.toContain('5ecret')
      const everything = JSON.stringify(results) + results.map((r) => (r.ok ? '' : `${r.error.message} ${r.error.stack}`)).join()
      expect(everything).not.toContain(key)
    } finally {
      await log.close()
      await sb.close()
    }
  })
})

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { addDays, localDate } from '../../server/calendar/days.ts'
import { manualClock } from '../../server/clock.ts'
import { startSandbox, type Sandbox } from '../../server/sandbox/server.ts'
import { startProcess } from '../helpers/process.ts'

const T0 = Date.UTC(2026, 11, 1, 2) // 10:00 on Tue 1 Dec in Singapore
const TODAY = localDate(T0, 'Asia/Singapore')
const SUNDAY = '2026-12-06'

describe('partner sandbox over HTTP', () => {
  const clock = manualClock(T0)
  let sb: Sandbox
  const get = (path: string, key: string | null = sb.apiKey) => fetch(`${sb.url}${path}`, { headers: key === null ? {} : { 'x-api-key': key } })
  const day = (productId: number | string, date: string) => get(`/api/v1/inventory/${productId}?date=${date}`)

  beforeAll(async () => {
    sb = await startSandbox({ products: 5, rateLimitPerMinute: 3, clock })
  })
  afterAll(() => sb.close())
  beforeEach(() => {
    // Each test starts a minute after the previous one: a fresh rate-limit window.
    clock.advance(120_000)
    sb.setFaults({})
    sb.resetStats()
  })

  it('answers the contract: a bare array, the catalogue for the clock time', async () => {
    const res = await day(14, SUNDAY)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const body = await res.json()
    expect(body).toEqual(sb.catalogue.inventory(14, SUNDAY, clock.now()))
    expect(body).toHaveLength(9)
    expect(sb.lastServed(14, SUNDAY)).toEqual({ at: clock.now(), body })
  })

  it('demands the key: 401 with a JSON body, not counted against the limit', async () => {
    for (const key of [null, 'nope', `${sb.apiKey}x`]) {
      const res = await day(14, SUNDAY).then(() => get(`/api/v1/inventory/14?date=${SUNDAY}`, key))
      expect(res.status).toBe(401)
      expect(await res.json()).toEqual({ message: 'Unauthorized' })
    }
    expect(sb.stats()).toMatchObject({ unauthorized: 3, served200: 3, rateLimited: 0 })
  })

  it('answers 400 for a bad date or product id, [] for unknown products, past, closed and far days', async () => {
    expect((await day(14, '2026-02-30')).status).toBe(400)
    expect((await day('abc', SUNDAY)).status).toBe(400)
    expect((await day(0, SUNDAY)).status).toBe(400)
    clock.advance(60_000)
    expect(await (await day(999_999, SUNDAY)).json()).toEqual([])
    expect(await (await day(14, addDays(TODAY, -2))).json()).toEqual([])
    expect(await (await day(15, TODAY)).json()).toEqual([]) // a Tuesday: 15 opens on Sundays
    clock.advance(60_000)
    expect(await (await day(14, addDays(SUNDAY, 63))).json()).toEqual([])
  })

  it('limits per key over a sliding window of the clock, with the contract 429 body and an exact reset', async () => {
    const t = clock.now()
    expect((await day(14, SUNDAY)).status).toBe(200)
    clock.set(t + 20_000)
    expect((await day(14, SUNDAY)).status).toBe(200)
    clock.set(t + 40_000)
    expect((await day(14, SUNDAY)).status).toBe(200)
    clock.set(t + 59_999)
    const limited = await day(14, SUNDAY)
    expect(limited.status).toBe(429)
    expect(await limited.json()).toEqual({ message: 'Too many requests', rateLimitState: { remaining: 0, reset: t + 60_000 } })
    clock.set(t + 60_000)
    expect((await day(14, SUNDAY)).status).toBe(200)
    // The 429 was not counted: the next slot frees when the t + 20 s request leaves the window.
    const again = await day(14, SUNDAY)
    expect(((await again.json()) as { rateLimitState: { reset: number } }).rateLimitState.reset).toBe(t + 80_000)
    expect(sb.stats()).toMatchObject({ requests: 6, served200: 4, rateLimited: 2, maxInAnyWindow: 3, byStatus: { '200': 4, '429': 2 } })
  })

  it('serves inventory that changes as the clock advances, so re-fetching matters', async () => {
    const date = addDays(TODAY, 2) // Thursday, inside product 14's booking window
    const before = (await (await day(14, date)).json()) as { remaining: number }[]
    clock.advance(36 * 3_600_000)
    const after = (await (await day(14, date)).json()) as { remaining: number }[]
    expect(after.length).toBe(before.length)
    expect(after.map((s) => s.remaining)).not.toEqual(before.map((s) => s.remaining))
    expect(after.every((s, i) => s.remaining <= before[i]!.remaining)).toBe(true)
  })

  it('setDay forces one day (slots removed), lastServed shows exactly what went out', async () => {
    const full = sb.catalogue.inventory(14, SUNDAY, clock.now())
    const trimmed = full.slice(0, 2).map((s) => ({ ...s, paxAvailability: s.paxAvailability.slice(0, 1) }))
    sb.setDay(14, SUNDAY, trimmed)
    expect(await (await day(14, SUNDAY)).json()).toEqual(trimmed)
    expect(sb.lastServed(14, SUNDAY)?.body).toEqual(trimmed)
    sb.setDay(14, SUNDAY, undefined)
    expect(await (await day(14, SUNDAY)).json()).toEqual(full)
    expect(sb.stats().perProductDate).toEqual({ [`14/${SUNDAY}`]: 2 })
  })

  it('exposes stats and takes faults over HTTP, outside the counted traffic', async () => {
    const bad = await fetch(`${sb.url}/__sandbox/faults`, { method: 'POST', body: '{"errorRate": 2}' })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ message: expect.stringContaining('errorRate') })
    expect((await fetch(`${sb.url}/__sandbox/faults`, { method: 'POST', body: '{"errorRate": 0.7, "emptyRate": 0.5}' })).status).toBe(400)
    const ok = await fetch(`${sb.url}/__sandbox/faults`, { method: 'POST', body: '{"errorRate": 1}' })
    expect(await ok.json()).toMatchObject({ errorRate: 1, dropRate: 0, hangMs: 30_000 })
    expect([500, 502, 503, 504]).toContain((await day(14, SUNDAY)).status)
    const stats = await (await fetch(`${sb.url}/__sandbox/stats`)).json()
    expect(stats).toMatchObject({ requests: 1, served200: 0, faults: { error: 1 } })
  })

  it('draws faults from the seed: the same seed gives the same sequence', async () => {
    const statuses = async (seed: number) => {
      const s = await startSandbox({ products: 0, seed, rateLimitPerMinute: 1_000, faults: { errorRate: 0.3, malformedRate: 0.3 } })
      try {
        const out: string[] = []
        for (let i = 0; i < 20; i++) {
          const r = await fetch(`${s.url}/api/v1/inventory/14?date=${SUNDAY}`, { headers: { 'x-api-key': s.apiKey } })
          const text = await r.text()
          out.push(`${r.status}:${text.startsWith('[') && text.endsWith(']') ? 'json' : 'other'}`)
        }
        return out
      } finally {
        await s.close()
      }
    }
    const a = await statuses(7)
    expect(await statuses(7)).toEqual(a)
    expect(new Set(a).size).toBeGreaterThanOrEqual(3)
    expect(await statuses(8)).not.toEqual(a)
  })

  it('closes at once, hung requests included', async () => {
    const s = await startSandbox({ products: 0, faults: { timeoutRate: 1 } })
    const hung = fetch(`${s.url}/api/v1/inventory/14?date=${SUNDAY}`, { headers: { 'x-api-key': s.apiKey } })
    await new Promise((r) => setTimeout(r, 50))
    expect(s.stats().byStatus.hung).toBe(1)
    const t = Date.now()
    await s.close()
    expect(Date.now() - t).toBeLessThan(500)
    await expect(hung).rejects.toThrow()
  })
})

describe('partner sandbox memory', () => {
  it('with `remember`, keeps only the most recently served days (lastServed, perProductDate): a long run stays bounded', async () => {
    const clock = manualClock(T0)
    const sb = await startSandbox({ products: 0, rateLimitPerMinute: 100, clock, remember: 2 })
    try {
      const fetchDay = (date: string) => fetch(`${sb.url}/api/v1/inventory/14?date=${date}`, { headers: { 'x-api-key': sb.apiKey } }).then((r) => r.json())
      const days = [0, 1, 2].map((n) => addDays(SUNDAY, 7 * n))
      for (const d of days) await fetchDay(d)
      await fetchDay(days[1]!) // served again: the most recent, so days[2] is the one dropped next
      await fetchDay(addDays(SUNDAY, 21))
      expect(sb.lastServed(14, days[0]!)).toBeUndefined()
      expect(sb.lastServed(14, days[2]!)).toBeUndefined()
      expect(sb.lastServed(14, days[1]!)?.body).toEqual(sb.catalogue.inventory(14, days[1]!, clock.now()))
      expect(sb.stats().perProductDate).toEqual({ [`14/${days[1]}`]: 2, [`14/${addDays(SUNDAY, 21)}`]: 1 })
      expect(sb.stats()).toMatchObject({ served200: 5 })
    } finally {
      await sb.close()
    }
  })
})

describe('npm run sandbox', () => {
  it('starts from SANDBOX_* settings, prints URL, key and products, and stops on SIGTERM', async () => {
    const p = await startProcess(
      'server/sandbox/main.ts',
      { SANDBOX_PORT: '0', SANDBOX_API_KEY: 'k-standalone', SANDBOX_PRODUCTS: '4', SANDBOX_RATE_LIMIT_PER_MINUTE: '7' },
      20_000,
    )
    try {
      expect(p.output()).toContain('api key: k-standalone')
      expect(p.output()).toMatch(/rate limit: 7\/min\s+products: 6 \(14, 15 and 4 generated\)/)
      const res = await fetch(`${p.url}/api/v1/inventory/1003?date=${localDate(Date.now(), 'Asia/Singapore')}`, { headers: { 'x-api-key': 'k-standalone' } })
      expect(res.status).toBe(200)
      expect((await fetch(`${p.url}/api/v1/inventory/1003?date=2026-12-01`)).status).toBe(401)
    } finally {
      p.child.kill('SIGTERM')
    }
    expect(await p.exited).toBe(0)
  })

  it('stops with a message naming a bad variable', async () => {
    await expect(startProcess('server/sandbox/main.ts', { SANDBOX_PORT: 'abc' }, 20_000)).rejects.toThrow(/exited with 2[\s\S]*SANDBOX_PORT/)
  })
})

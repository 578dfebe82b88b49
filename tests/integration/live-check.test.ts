import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAvailabilityService } from '../../server/availability/service.ts'
import { addDays, localDate } from '../../server/calendar/days.ts'
import { octoRoutes } from '../../server/octo/routes.ts'
import { maintainHorizon } from '../../server/sync/claims.ts'
import type { SyncAssembly } from '../../server/sync/index.ts'
import { createTestApi, seedDay, type TestApi } from '../helpers/api.ts'
import { createSyncWorld, TZ, type SyncWorld } from '../helpers/sync.ts'

/**
 * Live checks (public-api.md "Live check", octo.md "Freshness for
 * resellers") on a real database and a real HTTP sandbox, sharing a clock
 * the test moves: a read with a maximum age gets a stale day fetched now,
 * concurrent reads of one day share one partner request, a spent lane or a
 * spent client allowance answers the stored day with Retry-After.
 */
const OCTO_KEY = 'octo-test-key'
const MIN = 60_000
const H = 60 * MIN
let world: SyncWorld
let sync: SyncAssembly
let api: TestApi
let today: string
/** When the days were stored (2 h before the start). */
let storedAt: number
/** A day of the sandbox's product 14 with slots, and more for tests that need a stale day each. */
let days: string[]

const requests = () => world.sandbox.stats().requests
const slots = (date: string, q: string, ip = '10.0.0.1') =>
  api.app.inject({ method: 'GET', url: `/api/v1/experience/14/slots?date=${date}${q}`, remoteAddress: ip })
const nextMinute = () => world.clock.advance(62_000)

/** Stores `date` as fetched at `at` (the sandbox's own answer, so only its age differs). */
async function storeStale(date: string, at: number): Promise<void> {
  await seedDay(world.db, 14, date, world.sandbox.catalogue.inventory(14, date, at), new Date(at))
}

beforeAll(async () => {
  world = await createSyncWorld({ products: [14] })
  sync = world.makeSync({ live: { share: 0.2, perClientPerMinute: 3 } })
  const now = world.clock.now()
  today = localDate(now, TZ)
  await maintainHorizon(world.db.prisma, now)
  days = []
  for (let off = 1; off < 59 && days.length < 8; off++) {
    const d = addDays(today, off)
    if (world.sandbox.catalogue.inventory(14, d, now).length) days.push(d)
  }
  storedAt = now - 2 * H
  for (const d of days) await storeStale(d, storedAt)
  api = await createTestApi({ db: world.db, clock: world.clock, live: sync.live })
  await api.app.register(octoRoutes, {
    availability: api.services.availability as never,
    live: { check: sync.live.check, maxAgeMs: 300_000, now: () => world.clock.now() },
    apiKeys: [OCTO_KEY],
    publicUrl: 'https://slotsync.test',
  })
}, 60_000)
afterAll(async () => {
  await api?.close()
  await world?.close()
})

describe('maxAge on /slots', () => {
  it('without maxAge, or with one the stored day meets, sends nothing', async () => {
    const before = requests()
    const plain = await slots(days[0]!, '')
    const lenient = await slots(days[0]!, '&maxAge=86400')
    expect(plain.json().freshness).toEqual({ fetchedAt: new Date(storedAt).toISOString(), state: 'fresh' })
    expect(lenient.json().freshness).toEqual(plain.json().freshness)
    expect(requests()).toBe(before)
  })

  it('answers a stale day fresh, N concurrent checks of it sharing one partner request, written as a scheduled fetch writes it', async () => {
    const before = requests()
    const now = world.clock.now()
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => slots(days[0]!, '&maxAge=60', `10.0.1.${i}`)))
    for (const r of answers) {
      expect(r.statusCode).toBe(200)
      expect(r.json().freshness).toEqual({ fetchedAt: new Date(now).toISOString(), state: 'fresh' })
      expect(r.json().slots.length).toBeGreaterThan(0)
    }
    expect(requests() - before).toBe(1)
    const row = await world.db.prisma.dayFetchState.findUniqueOrThrow({ where: { productId_date: { productId: 14, date: new Date(`${days[0]}T00:00:00Z`) } } })
    // The claim is released, the next due time is the policy's, and explain can tell who fetched it.
    expect(row).toMatchObject({ claimedBy: null, claimedUntil: null, fetchedLive: true, lastOutcome: 'ok' })
    expect(row.nextDueAt.getTime()).toBeGreaterThan(now)
    const live = await world.db.prisma.partnerRequest.count({ where: { live: true } })
    expect(live).toBe(1)
    const explain = (await api.app.inject({ method: 'GET', url: `/api/v1/sync/explain?productId=14&date=${days[0]}` })).json()
    expect(explain.reason).toBe('live')
    expect(explain.detail).toMatch(/a live check/)
  })

  it('through tRPC (maxAgeS) the same', async () => {
    const before = requests()
    const input = encodeURIComponent(JSON.stringify({ json: { productId: 14, date: days[1], maxAgeS: 60 } }))
    const r = await api.app.inject({ method: 'GET', url: `/trpc/availability.slots?input=${input}`, remoteAddress: '10.0.2.1' })
    expect(r.statusCode).toBe(200)
    expect(r.json().result.data.json.freshness).toEqual({ fetchedAt: new Date(world.clock.now()).toISOString(), state: 'fresh' })
    expect(requests() - before).toBe(1)
  })

  it('counts a live-checked read once for demand, not again when the fresh day is read back', async () => {
    const counted: string[] = []
    const service = createAvailabilityService({
      prisma: world.db.prisma,
      clock: world.clock,
      defaultTimeZone: TZ,
      reads: { record: (productId, date) => counted.push(`${productId}|${date}`) },
      live: sync.live,
    })
    const before = requests()
    const r = await service.slots(14, days[6]!, { maxAgeS: 60 })
    expect(r.freshness.state).toBe('fresh')
    expect(requests() - before).toBe(1)
    expect(counted).toEqual([`14|${days[6]}`])
  })

  it('waits for a scheduled fetch of the same day instead of sending a second request', async () => {
    nextMinute()
    const date = days[2]!
    const d = new Date(`${date}T00:00:00Z`)
    await world.db.prisma.dayFetchState.update({
      where: { productId_date: { productId: 14, date: d } },
      data: { claimedBy: 'scheduled-elsewhere', claimedUntil: new Date(world.clock.now() + MIN) },
    })
    const before = requests()
    const pending = slots(date, '&maxAge=60', '10.0.3.1')
    let settled = false
    void pending.then(() => (settled = true))
    // The holder's answer arrives and is written (its write releases the claim).
    await new Promise((r) => setTimeout(r, 200))
    await storeStale(date, world.clock.now())
    while (!settled) {
      world.clock.advance(100)
      await new Promise((r) => setTimeout(r, 20))
    }
    const r = await pending
    expect(r.json().freshness.state).toBe('fresh')
    expect(r.json().freshness.live).toBeUndefined()
    expect(requests()).toBe(before)
  })

  it('answers the stored day at once, stale and refused with Retry-After, when the lane is spent', async () => {
    nextMinute()
    const now = world.clock.now()
    // The lane's whole share (⌊30 × 0.2⌋ = 6) sent by other instances in this window.
    await world.db.prisma.partnerRequest.createMany({
      data: Array.from({ length: 6 }, () => ({ sentAt: new Date(now - 1_000), instanceId: 'other', live: true })),
    })
    const before = requests()
    const r = await slots(days[3]!, '&maxAge=60', '10.0.4.1')
    expect(r.statusCode).toBe(200)
    // The oldest of them leaves the window (61 s with its margin) 60 s from now.
    expect(r.json().freshness).toEqual({ fetchedAt: new Date(storedAt).toISOString(), state: 'stale', live: 'refused', retryAfterS: 60 })
    expect(r.headers['retry-after']).toBe('60')
    expect(r.json().slots.length).toBeGreaterThan(0)
    expect(requests()).toBe(before)
    // Once those leave the window, the lane has room again.
    nextMinute()
    const again = await slots(days[3]!, '&maxAge=60', '10.0.4.1')
    expect(again.json().freshness.state).toBe('fresh')
    expect(requests() - before).toBe(1)
  })

  it('limits live checks per client address (LIVE_CHECKS_PER_MINUTE), refused likewise', async () => {
    nextMinute()
    const ip = '10.0.5.1'
    for (const d of days.slice(4, 7)) expect((await slots(d, '&maxAge=60', ip)).json().freshness.state).toBe('fresh')
    const before = requests()
    const r = await slots(days[7]!, '&maxAge=60', ip)
    expect(r.json().freshness).toMatchObject({ state: 'stale', live: 'refused' })
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0)
    expect(requests()).toBe(before)
    // Another address is not held back by this one.
    expect((await slots(days[7]!, '&maxAge=60', '10.0.5.2')).json().freshness.state).toBe('fresh')
  })

  it.each([
    ['0', 'maxAge'],
    ['86401', 'maxAge'],
    ['1.5', 'maxAge'],
    ['soon', 'maxAge'],
  ])('maxAge=%s → 400 naming %s', async (value, field) => {
    const r = await slots(days[0]!, `&maxAge=${value}`)
    expect(r.statusCode).toBe(400)
    expect(r.json().error).toMatchObject({ code: 'BAD_REQUEST', field })
  })

  it('tRPC maxAgeS out of range → 400 naming maxAgeS', async () => {
    const input = encodeURIComponent(JSON.stringify({ json: { productId: 14, date: days[0], maxAgeS: 0 } }))
    const r = await api.app.inject({ method: 'GET', url: `/trpc/availability.slots?input=${input}` })
    expect(r.statusCode).toBe(400)
    expect(JSON.stringify(r.json())).toMatch(/maxAgeS/)
  })
})

describe('OCTO one-day availability', () => {
  const octo = (body: object) =>
    api.app.inject({
      method: 'POST',
      url: '/octo/availability',
      headers: { authorization: `Bearer ${OCTO_KEY}`, 'content-type': 'application/json' },
      payload: { productId: '14', optionId: 'DEFAULT', ...body },
      remoteAddress: '10.0.6.1',
    })

  it('is a live check with OCTO_LIVE_MAX_AGE_S, and says its fetch time in Slotsync-Fetched-At', async () => {
    nextMinute()
    const date = days[5]!
    // Older than OCTO's 300 s.
    world.clock.advance(301_000)
    const before = requests()
    const r = await octo({ localDate: date })
    expect(r.statusCode).toBe(200)
    expect(r.headers['slotsync-fetched-at']).toBe(new Date(world.clock.now()).toISOString())
    expect(requests() - before).toBe(1)
    // Within the maximum age now: served as stored.
    const again = await octo({ localDate: date })
    expect(again.headers['slotsync-fetched-at']).toBe(r.headers['slotsync-fetched-at'])
    expect(requests() - before).toBe(1)
  })

  it('serves a range from the stored days, its header the oldest fetch among them', async () => {
    const before = requests()
    const r = await octo({ localDateStart: days[0], localDateEnd: days[7] })
    expect(r.statusCode).toBe(200)
    const stored = await world.db.prisma.daySummary.aggregate({
      where: { productId: 14, date: { gte: new Date(`${days[0]}T00:00:00Z`), lte: new Date(`${days[7]}T00:00:00Z`) } },
      _min: { fetchedAt: true },
    })
    expect(r.headers['slotsync-fetched-at']).toBe(stored._min.fetchedAt!.toISOString())
    expect(requests()).toBe(before)
  })
})

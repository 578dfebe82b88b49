import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAvailabilityService } from '../../server/availability/service.ts'
import { addDays } from '../../server/calendar/days.ts'
import { manualClock } from '../../server/clock.ts'
import type { PartnerSlotInput } from '../../server/partner/schema.ts'
import { seedDay } from '../helpers/api.ts'
import { countingReads } from '../helpers/counting-reads.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { rawSlot } from '../helpers/partner-data.ts'

// The range and summary reads the OCTO face answers from (Postgres, real rows
// written by the snapshot writer). 10:00 on 2026-12-01 in Singapore.
const NOW = Date.parse('2026-12-01T02:00:00Z')
const TODAY = '2026-12-01'

type Pax = PartnerSlotInput['paxAvailability'][number]
const pax = (type: string, finalPrice: number, over: Partial<Pax> = {}, currencyCode = 'SGD'): Pax => ({
  type,
  name: type.split('_')[0]!,
  description: '',
  min: 1,
  max: 10,
  remaining: 10,
  price: { discount: 0, finalPrice, originalPrice: finalPrice, currencyCode },
  ...over,
})

let db: TestDatabase
// Statements the service sent (by name), to count what a read costs.
let queries: string[]
let counted: ReturnType<typeof countingReads>['prisma']
const service = () => createAvailabilityService({ prisma: counted, clock: manualClock(NOW), defaultTimeZone: 'Asia/Singapore' })

beforeAll(async () => {
  db = await createTestDatabase()
  ;({ prisma: counted, queries } = countingReads(db.prisma))
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO product (id, time_zone, active) VALUES (14, 'Asia/Singapore', true), (15, 'Asia/Singapore', true), (16, 'Asia/Singapore', false), (21, 'Europe/Amsterdam', true)`,
  )
  for (let i = 0; i < 60; i++) {
    const date = addDays(TODAY, i)
    await seedDay(db, 14, date, [rawSlot(date, '09:30', { remaining: i % 7 === 0 ? 0 : 5 }), rawSlot(date, '04:00')], new Date(NOW))
  }
  await seedDay(db, 14, '2026-11-30', [rawSlot('2026-11-30', '23:00')], new Date(NOW)) // before today: not in the horizon
  await seedDay(db, 14, '2027-01-30', [rawSlot('2027-01-30', '22:00')], new Date(NOW)) // after the last day
  await seedDay(
    db,
    15,
    TODAY,
    [
      rawSlot(TODAY, '10:00', { providerSlotId: 'a', paxAvailability: [pax('ADULT', 0.29, { min: 2, max: 8 }), pax('CHILD', 10)] }),
      rawSlot(TODAY, '11:00', { providerSlotId: 'b', paxAvailability: [pax('ADULT', 1, { min: 1, max: 4 }, 'USD')] }),
    ],
    new Date(NOW),
  )
  await seedDay(db, 16, TODAY, [rawSlot(TODAY, '10:00')], new Date(NOW))
})
afterAll(async () => db?.drop())

describe('range: many days of one product in one query', () => {
  it('answers 60 days with one statement, slots by date then start, money as the stored decimal text', async () => {
    const s = service()
    queries.length = 0
    const r = await s.range(14, TODAY, addDays(TODAY, 59))
    expect(queries).toEqual(['availability_range'])
    expect(r!.timeZone).toBe('Asia/Singapore')
    expect(r!.horizon).toEqual({ today: TODAY, last: '2027-01-29' })
    expect(r!.slots).toHaveLength(120)
    expect(r!.slots.slice(0, 3).map((x) => [x.date, x.startTime])).toEqual([
      [TODAY, '04:00'],
      [TODAY, '09:30'],
      ['2026-12-02', '04:00'],
    ])
    expect(r!.slots[0]!.pax.map((p) => [p.type, p.finalPrice, p.originalPrice, p.currencyCode])).toEqual([
      ['ADULT_12~99', '242.14', '242.14', 'SGD'],
      ['CHILD_3~11', '180.50', '180.50', 'SGD'],
    ])
  })

  it('answers the days asked for, stored outside the horizon or not (the caller decides what is served)', async () => {
    const r = await service().range(14, '2026-11-30', '2026-11-30')
    expect(r!.slots.map((x) => [x.date, x.startTime])).toEqual([['2026-11-30', '23:00']])
  })

  it('agrees with the one-day read /slots uses', async () => {
    const s = service()
    const day = await s.slots(14, '2026-12-02')
    const r = await s.range(14, '2026-12-02', '2026-12-02')
    expect(r!.slots.map((x) => ({ startTime: x.startTime, remaining: x.remaining, prices: x.pax.map((p) => Number(p.finalPrice)) }))).toEqual(
      day.slots.map((x) => ({
        startTime: x.startTime,
        remaining: x.remaining,
        prices: [...x.paxAvailability].sort((a, b) => (a.type < b.type ? -1 : 1)).map((p) => p.price.finalPrice),
      })),
    )
  })

  it('is undefined for an unknown or removed (inactive) product', async () => {
    expect(await service().range(99, TODAY, TODAY)).toBeUndefined()
    expect(await service().range(16, TODAY, TODAY)).toBeUndefined()
  })

  it('refuses an impossible day or a bad id before any query', async () => {
    queries.length = 0
    await expect(service().range(14, '2026-02-30', TODAY)).rejects.toThrow(/from/)
    await expect(service().range(0, TODAY, TODAY)).rejects.toThrow(/productId/)
    expect(queries).toEqual([])
  })
})

describe('summaries: what each product offers in its stored horizon', () => {
  it('all active products in one statement: start times, pax types (loosest min/max), currencies', async () => {
    const s = service()
    queries.length = 0
    const all = await s.summaries()
    expect(queries).toEqual(['availability_summaries'])
    expect(all.map((p) => p.id)).toEqual([14, 15, 21])
    const p14 = all[0]!
    // 23:00 (yesterday) and 22:00 (beyond the horizon) are not in it
    expect(p14.startTimes).toEqual(['04:00', '09:30'])
    expect(p14.paxTypes.map((p) => p.type)).toEqual(['ADULT_12~99', 'CHILD_3~11'])
    expect(all[1]).toEqual({
      id: 15,
      timeZone: 'Asia/Singapore',
      startTimes: ['10:00', '11:00'],
      paxTypes: [
        { type: 'ADULT', name: 'ADULT', min: 1, max: 8 },
        { type: 'CHILD', name: 'CHILD', min: 1, max: 10 },
      ],
      currencies: ['SGD', 'USD'],
    })
    expect(all[2]).toEqual({ id: 21, timeZone: 'Europe/Amsterdam', startTimes: [], paxTypes: [], currencies: [] })
  })

  it('one product, or none when unknown or removed', async () => {
    expect((await service().summaries(15)).map((p) => p.id)).toEqual([15])
    expect(await service().summaries(99)).toEqual([])
    expect(await service().summaries(16)).toEqual([])
  })
})

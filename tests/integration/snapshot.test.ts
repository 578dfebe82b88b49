import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recordFetchFailure, writeDaySnapshot } from '../../server/sync/snapshot.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { rawSlot, validSlots } from '../helpers/partner-data.ts'

let db: TestDatabase
const D = '2026-12-01'
beforeAll(async () => {
  db = await createTestDatabase()
  await db.prisma.product.createMany({ data: [{ id: 14 }, { id: 15 }] })
})
afterAll(async () => db?.drop())

async function storedDay(productId: number, date: string) {
  return db.prisma.$queryRawUnsafe<
    { provider_slot_id: string; start_time: string; remaining: number; pax: { type: string; remaining: number; final: string; primary: boolean }[] }[]
  >(
    `SELECT s.provider_slot_id, s.start_time, s.remaining,
            coalesce(json_agg(json_build_object('type', p.type, 'remaining', p.remaining, 'final', p.final_price::text, 'primary', p.is_primary) ORDER BY p.type) FILTER (WHERE p.id IS NOT NULL), '[]') AS pax
     FROM slot s LEFT JOIN pax_availability p ON p.slot_id = s.id
     WHERE s.product_id = $1 AND s.date = $2::date GROUP BY s.id ORDER BY s.start_time`,
    productId,
    date,
  )
}

async function fetchState(productId: number, date: string) {
  const rows = await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(
    'SELECT *, date::text AS day FROM day_fetch_state WHERE product_id = $1 AND date = $2::date',
    productId,
    date,
  )
  return rows[0]
}

describe('writeDaySnapshot', () => {
  it('stores exactly what the partner answered, money as exact decimals', async () => {
    const slots = validSlots(D, [rawSlot(D, '04:00'), rawSlot(D, '04:30', { remaining: 5 })])
    const r = await writeDaySnapshot(db.prisma, { productId: 14, date: D, slots, fetchedAt: new Date('2026-11-30T00:00:00Z') })
    expect(r).toMatchObject({ changed: true, slotsInserted: 2, paxInserted: 4, slotsDeleted: 0, paxDeleted: 0 })
    const day = await storedDay(14, D)
    expect(day.map((s) => [s.provider_slot_id, s.start_time, s.remaining])).toEqual([
      [`P14_${D}T04:00`, '04:00', 2000],
      [`P14_${D}T04:30`, '04:30', 5],
    ])
    expect(day[0]!.pax).toEqual([
      { type: 'ADULT_12~99', remaining: 1000, final: '242.14', primary: true },
      { type: 'CHILD_3~11', remaining: 1000, final: '180.50', primary: false },
    ])
    const st = await fetchState(14, D)
    expect(st).toMatchObject({ last_outcome: 'ok', slot_count: 2, last_slot_start: '04:30', total_remaining: 2005, consecutive_failures: 0 })
  })

  it('a re-fetch with slots and pax types gone leaves no leftovers', async () => {
    const first = [rawSlot(D, '05:00'), rawSlot(D, '05:30'), rawSlot(D, '06:00')]
    await writeDaySnapshot(db.prisma, { productId: 15, date: D, slots: validSlots(D, first), fetchedAt: new Date('2026-11-30T01:00:00Z') })
    const adultOnly = rawSlot(D, '05:30')
    adultOnly.paxAvailability = adultOnly.paxAvailability.slice(0, 1)
    const r = await writeDaySnapshot(db.prisma, { productId: 15, date: D, slots: validSlots(D, [adultOnly]), fetchedAt: new Date('2026-11-30T02:00:00Z') })
    expect(r).toMatchObject({ slotsDeleted: 2, paxDeleted: 1, slotsInserted: 0 })
    const day = await storedDay(15, D)
    expect(day).toHaveLength(1)
    expect(day[0]!.pax.map((p: { type: string }) => p.type)).toEqual(['ADULT_12~99'])
    const rows = await db.prisma.$queryRawUnsafe<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM pax_availability p JOIN slot s ON s.id = p.slot_id WHERE s.product_id = 15',
    )
    expect(rows[0]!.n).toBe(1)
  })

  // One statement writes slots and pax: a new slot's pax must find the slot inserted by that same statement.
  it('a re-fetch adding a slot and a pax type links every pax row to its own slot', async () => {
    const date = '2026-12-07'
    await writeDaySnapshot(db.prisma, { productId: 15, date, slots: validSlots(date, [rawSlot(date, '07:00')]), fetchedAt: new Date('2026-11-30T01:00:00Z') })
    const kept = rawSlot(date, '07:00')
    kept.paxAvailability = [...kept.paxAvailability, { ...kept.paxAvailability[1]!, type: 'INFANT_0~2', name: 'Infant', remaining: 5 }]
    const added = rawSlot(date, '07:30', { remaining: 3 })
    const r = await writeDaySnapshot(db.prisma, { productId: 15, date, slots: validSlots(date, [kept, added]), fetchedAt: new Date('2026-11-30T02:00:00Z') })
    expect(r).toMatchObject({ changed: true, slotsInserted: 1, slotsUpdated: 0, slotsDeleted: 0, paxInserted: 3, paxUpdated: 0, paxDeleted: 0 })
    const day = await storedDay(15, date)
    expect(day.map((s) => [s.start_time, s.remaining, s.pax.map((p: { type: string; remaining: number }) => `${p.type}:${p.remaining}`)])).toEqual([
      ['07:00', 2000, ['ADULT_12~99:1000', 'CHILD_3~11:1000', 'INFANT_0~2:5']],
      ['07:30', 3, ['ADULT_12~99:1000', 'CHILD_3~11:1000']],
    ])
  })

  it('an empty answer empties the day and records it as closed', async () => {
    const date = '2026-12-02'
    await writeDaySnapshot(db.prisma, { productId: 15, date, slots: validSlots(date, [rawSlot(date, '00:00')]), fetchedAt: new Date('2026-11-30T01:00:00Z') })
    const r = await writeDaySnapshot(db.prisma, { productId: 15, date, slots: [], fetchedAt: new Date('2026-11-30T02:00:00Z') })
    expect(r).toMatchObject({ changed: true, slotsDeleted: 1 })
    expect(await storedDay(15, date)).toEqual([])
    expect(await fetchState(15, date)).toMatchObject({ last_outcome: 'empty', slot_count: 0, last_slot_start: null })
  })

  it('rewriting an unchanged day touches no slot or pax row', async () => {
    const date = '2026-12-03'
    const slots = validSlots(date, [rawSlot(date, '04:00'), rawSlot(date, '05:00')])
    await writeDaySnapshot(db.prisma, { productId: 14, date, slots, fetchedAt: new Date('2026-11-30T01:00:00Z') })
    const r = await writeDaySnapshot(db.prisma, { productId: 14, date, slots, fetchedAt: new Date('2026-11-30T01:15:00Z') })
    expect(r).toMatchObject({ changed: false, slotsInserted: 0, slotsUpdated: 0, paxInserted: 0, paxUpdated: 0, slotsDeleted: 0, paxDeleted: 0 })
    expect((await fetchState(14, date))?.last_fetched_at).toEqual(new Date('2026-11-30T01:15:00Z'))
  })

  it('an answer older than the stored one is dropped', async () => {
    const date = '2026-12-04'
    await writeDaySnapshot(db.prisma, {
      productId: 14,
      date,
      slots: validSlots(date, [rawSlot(date, '04:00', { remaining: 7 })]),
      fetchedAt: new Date('2026-11-30T03:00:00Z'),
    })
    const r = await writeDaySnapshot(db.prisma, {
      productId: 14,
      date,
      slots: validSlots(date, [rawSlot(date, '04:00', { remaining: 9 })]),
      fetchedAt: new Date('2026-11-30T02:00:00Z'),
    })
    expect(r.superseded).toBe(true)
    expect((await storedDay(14, date))[0]!.remaining).toBe(7)
  })

  it('racing writers of one day never collide and converge on the newest answer', async () => {
    const date = '2026-12-05'
    const writers = Array.from({ length: 12 }, (_, i) => {
      const slots = validSlots(
        date,
        Array.from({ length: 1 + (i % 4) }, (_, k) => rawSlot(date, `0${4 + k}:00`, { remaining: 100 + i })),
      )
      return writeDaySnapshot(db.prisma, { productId: 14, date, slots, fetchedAt: new Date(Date.UTC(2026, 10, 30, 0, i)) })
    })
    const results = await Promise.allSettled(writers)
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
    const day = await storedDay(14, date)
    // The newest (i = 11) had 1 + (11 % 4) = 4 slots with remaining 111.
    expect(day.map((s) => s.remaining)).toEqual([111, 111, 111, 111])
  })

  it('a failed fetch changes only the fetch state', async () => {
    const date = '2026-12-06'
    await writeDaySnapshot(db.prisma, { productId: 14, date, slots: validSlots(date, [rawSlot(date, '04:00')]), fetchedAt: new Date('2026-11-30T01:00:00Z') })
    const before = await storedDay(14, date)
    await recordFetchFailure(db.prisma, {
      productId: 14,
      date,
      at: new Date('2026-11-30T02:00:00Z'),
      outcome: 'invalid',
      error: '0.remaining: must not be negative',
      nextDueAt: new Date('2026-11-30T02:05:00Z'),
    })
    await recordFetchFailure(db.prisma, {
      productId: 14,
      date,
      at: new Date('2026-11-30T02:05:00Z'),
      outcome: 'error',
      error: 'HTTP 503',
      nextDueAt: new Date('2026-11-30T02:15:00Z'),
    })
    expect(await storedDay(14, date)).toEqual(before)
    expect(await fetchState(14, date)).toMatchObject({
      last_outcome: 'error',
      last_error: 'HTTP 503',
      consecutive_failures: 2,
      last_fetched_at: new Date('2026-11-30T01:00:00Z'),
    })
  })
})

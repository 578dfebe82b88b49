import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays } from '../../server/calendar/days.ts'
import type { PartnerSlotInput } from '../../server/partner/schema.ts'
import type { SyncAssembly } from '../../server/sync/index.ts'
import { rawSlot } from '../helpers/partner-data.ts'
import { drive } from '../helpers/reliability.ts'
import { normalizeServed, storedDay, type NormalSlot } from '../helpers/stored.ts'
import { createSyncWorld, type SyncWorld } from '../helpers/sync.ts'

type Body = Record<string, unknown>[]
type Pax = Record<string, unknown>

/** Breaks a valid day's answer one way; the day asked for is `date`. */
const CASES: { name: string; reason: RegExp; spoil(body: Body, date: string): void }[] = [
  {
    name: 'negative slot remaining',
    reason: /(^|: )\d+\.remaining: must not be negative/,
    spoil: (b) => {
      b[0]!.remaining = -4
    },
  },
  {
    name: 'negative pax remaining',
    reason: /paxAvailability\.0\.remaining: must not be negative/,
    spoil: (b) => {
      ;(b[0]!.paxAvailability as Pax[])[0]!.remaining = -1
    },
  },
  { name: 'a missing slot field', reason: /(^|: )\d+\.providerSlotId: /, spoil: (b) => void delete b[0]!.providerSlotId },
  { name: 'a missing pax price', reason: /paxAvailability\.0\.price: /, spoil: (b) => void delete (b[0]!.paxAvailability as Pax[])[0]!.price },
  {
    name: 'duplicate slot ids in one answer',
    reason: /providerSlotId: duplicate/,
    spoil: (b) => void b.push({ ...structuredClone(b[0]!), startTime: '23:59' }),
  },
  {
    name: 'a date other than the one asked',
    reason: /not the day asked for/,
    spoil: (b, date) => {
      b[b.length - 1]!.startDate = addDays(date, 1)
    },
  },
]

let world: SyncWorld
let sync: SyncAssembly
/** A day of product 14 with slots, and a closed day of product 15, both fetched and stored once. */
let open: { date: string; stored: NormalSlot[]; body: PartnerSlotInput[] }
let closed: string

beforeAll(async () => {
  world = await createSyncWorld()
  sync = world.makeSync()
  await drive(world.clock, [sync.engine], { until: world.clock.now() + 3_600_000, untilIdle: true })
  const rows = await world.db.prisma.$queryRawUnsafe<{ date: string }[]>(
    `SELECT date::text AS date FROM day_fetch_state WHERE product_id = 14 AND slot_count > 1 ORDER BY date LIMIT 1`,
  )
  const date = rows[0]!.date
  open = { date, stored: await storedDay(world.db.prisma, 14, date), body: world.sandbox.lastServed(14, date)!.body }
  expect(open.stored).toEqual(normalizeServed(open.body, date))
  const empty = await world.db.prisma.$queryRawUnsafe<{ date: string }[]>(
    `SELECT date::text AS date FROM day_fetch_state WHERE product_id = 15 AND last_outcome = 'empty' ORDER BY date LIMIT 1`,
  )
  closed = empty[0]!.date
})
afterAll(async () => world?.close())

async function fetchState(productId: number, date: string) {
  const rows = await world.db.prisma.$queryRawUnsafe<
    { last_outcome: string; last_error: string | null; last_fetched_at: Date | null; consecutive_failures: number }[]
  >(
    `SELECT last_outcome::text, last_error, last_fetched_at, consecutive_failures FROM day_fetch_state WHERE product_id = $1 AND date = $2::date`,
    productId,
    date,
  )
  return rows[0]!
}

describe('bad partner data is rejected per day, with a reason, and writes nothing', () => {
  it.each(CASES)('$name', async ({ reason, spoil }) => {
    // A fresh budget window for each case: the budget spreads 30/min in 10 s steps.
    world.clock.advance(61_000)
    const bad14 = structuredClone(open.body) as unknown as Body
    spoil(bad14, open.date)
    const bad15 = [rawSlot(closed, '10:00'), rawSlot(closed, '11:00')] as unknown as Body
    spoil(bad15, closed)
    world.sandbox.setDay(14, open.date, bad14 as unknown as PartnerSlotInput[])
    world.sandbox.setDay(15, closed, bad15 as unknown as PartnerSlotInput[])
    const before14 = await fetchState(14, open.date)
    const before15 = await fetchState(15, closed)
    const logFrom = world.log.lines.length

    await sync.control.run({ productId: 14, from: open.date, to: open.date })
    await sync.control.run({ productId: 15, from: closed, to: closed })
    const pass = await sync.engine.runPass()
    expect(pass).toMatchObject({ claimed: 2, fetched: 0, failed: 2 })

    // Nothing written: the good day is intact, the closed day got no rows.
    expect(await storedDay(world.db.prisma, 14, open.date)).toEqual(open.stored)
    expect(await storedDay(world.db.prisma, 15, closed)).toEqual([])
    for (const [productId, date, before] of [
      [14, open.date, before14],
      [15, closed, before15],
    ] as const) {
      const s = await fetchState(productId, date)
      expect(s.last_outcome, `${productId} ${date}`).toBe('invalid')
      expect(s.last_error).toMatch(/^invalid_response: response breaks the contract: /)
      expect(s.last_error!.replace(/^invalid_response: response breaks the contract: /, '')).toMatch(reason)
      // Counted as a failure, so the planner retries it on its failure backoff.
      expect(s.consecutive_failures).toBe(before.consecutive_failures + 1)
    }
    // The last good fetch is still the one the day's freshness is based on.
    expect((await fetchState(14, open.date)).last_fetched_at).toEqual(before14.last_fetched_at)
    const rejected = world.log.lines.slice(logFrom).filter((l) => l.msg === 'partner day rejected')
    expect(rejected.map((l) => (l.obj as { productId: number }).productId).sort()).toEqual([14, 15])
    for (const l of rejected) expect((l.obj as { reason: string }).reason).toMatch(reason)
    expect((await sync.control.status()).lastError?.message).toMatch(reason)
  })

  it('takes the partner answer again once it is valid', async () => {
    world.sandbox.setDay(14, open.date, undefined)
    world.sandbox.setDay(15, closed, undefined)
    world.clock.advance(61_000)
    await sync.control.run({ productId: 14, from: open.date, to: open.date })
    expect(await sync.engine.runPass()).toMatchObject({ fetched: 1, failed: 0 })
    expect(await storedDay(world.db.prisma, 14, open.date)).toEqual(normalizeServed(world.sandbox.lastServed(14, open.date)!.body, open.date))
    expect((await fetchState(14, open.date)).last_outcome).toBe('ok')
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../server/changes/event.ts'
import { createChangeHub, type ChangeHub } from '../../server/changes/hub.ts'
import { changeStream } from '../../server/changes/stream.ts'
import { writeDaySnapshot } from '../../server/sync/snapshot.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { rawSlot, validSlots } from '../helpers/partner-data.ts'

// The LISTEN hub and a subscriber's stream on real Postgres: a lost LISTEN
// connection, and a subscriber too slow for its buffer, still see every
// event once, in id order.
let db: TestDatabase
let hub: ChangeHub
const warnings: string[] = []
beforeAll(async () => {
  db = await createTestDatabase()
  await db.prisma.product.createMany({ data: [{ id: 14 }, { id: 15 }] })
  hub = createChangeHub({
    connectionString: db.directUrl,
    prisma: db.prisma,
    logger: { info() {}, warn: (_o, msg) => void warnings.push(String(msg)) },
    reconnectMs: 50,
  })
  await hub.start()
})
afterAll(async () => {
  await hub?.stop()
  await db?.drop()
})

let minute = 0
async function write(productId: number, remaining: number, date = '2026-12-01'): Promise<number> {
  const r = await writeDaySnapshot(db.prisma, {
    productId,
    date,
    slots: validSlots(date, [rawSlot(date, '04:00', { remaining })]),
    fetchedAt: new Date(Date.UTC(2026, 10, 30, 0, ++minute)),
  })
  return r.eventId!
}
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now()
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('the change hub', () => {
  it('fans out to every subscriber; after its LISTEN connection is killed it catches up from the log, in order, once', async () => {
    const one: number[] = []
    const two: number[] = []
    const offOne = hub.subscribe((e) => one.push(e.id))
    const offTwo = hub.subscribe((e) => two.push(e.id))
    try {
      const ids = [await write(14, 1), await write(14, 2)]
      await until('both events', () => one.length >= 2 && two.length >= 2)
      // Kill the hub's LISTEN connection (as a Postgres restart or a network cut would), and write while it is gone.
      await db.prisma.$queryRawUnsafe(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()`)
      ids.push(await write(14, 3), await write(15, 4), await write(14, 5))
      await until('the hub to reconnect and catch up', () => one.length >= 5, 15_000)
      ids.push(await write(15, 6))
      await until('a live event after the reconnect', () => one.length >= 6)
      expect(one).toEqual(ids)
      expect(two).toEqual(ids)
      expect(warnings.some((w) => /lost/.test(w))).toBe(true)
      expect(hub.subscribers).toBe(2)
    } finally {
      offOne()
      offTwo()
    }
    expect(hub.subscribers).toBe(0)
  })
})

describe('a subscriber stream', () => {
  it('too slow for its buffer, it reads what it missed back from the log: every event once, in order', async () => {
    const ac = new AbortController()
    const first = await write(14, 10)
    const stream = changeStream({ hub, prisma: db.prisma, maxBuffered: 2, pageSize: 3 }, { lastEventId: first - 1, signal: ac.signal })
    const got: ChangeEvent[] = []
    const first2 = await stream.next()
    got.push(first2.value as ChangeEvent)
    // The consumer stalls while 12 events arrive: far more than its buffer of 2.
    const ids = [first]
    for (let i = 0; i < 12; i++) ids.push(await write(i % 2 ? 14 : 15, 20 + i))
    await new Promise((r) => setTimeout(r, 200))
    while (got.length < ids.length) got.push((await stream.next()).value as ChangeEvent)
    expect(got.map((e) => e.id)).toEqual(ids)
    ac.abort()
    expect((await stream.next()).done).toBe(true)
    expect(hub.subscribers).toBe(0)
  })

  it('filters by product and, resumed from an id, replays the log before live events without repeating one', async () => {
    const base = await write(15, 50, '2026-12-02')
    const a = await write(14, 51, '2026-12-02')
    const b = await write(15, 52, '2026-12-02')
    const ac = new AbortController()
    const stream = changeStream({ hub, prisma: db.prisma }, { productIds: [15], lastEventId: base, signal: ac.signal })
    const replayed = (await stream.next()).value as ChangeEvent
    const c = await write(14, 53, '2026-12-02')
    const d = await write(15, 54, '2026-12-02')
    const live = (await stream.next()).value as ChangeEvent
    expect([replayed.id, live.id]).toEqual([b, d])
    expect([a, c]).not.toContain(live.id)
    ac.abort()
    expect((await stream.next()).done).toBe(true)
  })
})

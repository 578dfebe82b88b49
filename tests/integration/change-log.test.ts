import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHANGES_CHANNEL, parseNotifyPayload, type ChangeEvent } from '../../server/changes/event.ts'
import { createChangeFeed } from '../../server/changes/feed.ts'
import { pruneChanges, readChangesAfter } from '../../server/changes/log.ts'
import { recordFetchFailure, SNAPSHOT_TX, writeDaySnapshot, writeInTransaction } from '../../server/sync/snapshot.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { rawSlot, validSlots } from '../helpers/partner-data.ts'

// The snapshot writer's side of the change feed, on real Postgres: which
// writes append an event, what it says, and that ids commit in order.
let db: TestDatabase
let listener: pg.Client
const heard: ChangeEvent[] = []
beforeAll(async () => {
  db = await createTestDatabase()
  await db.prisma.product.createMany({ data: [{ id: 14 }, { id: 15 }, { id: 16 }] })
  listener = new pg.Client({ connectionString: db.directUrl })
  await listener.connect()
  listener.on('notification', (n) => {
    const e = parseNotifyPayload(n.payload)
    if (e) heard.push(e)
  })
  await listener.query(`LISTEN ${CHANGES_CHANNEL}`)
})
afterAll(async () => {
  await listener?.end()
  await db?.drop()
})

const at = (minute: number) => new Date(Date.UTC(2026, 10, 30, 0, minute))
const write = (productId: number, date: string, slots: unknown[], minute: number) =>
  writeDaySnapshot(db.prisma, { productId, date, slots: validSlots(date, slots), fetchedAt: at(minute) })
async function eventsOf(productId: number, date: string): Promise<ChangeEvent[]> {
  return (await readChangesAfter(db.prisma, 0, { productIds: [productId], limit: 1000 })).filter((e) => e.date === date)
}
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
}

describe('change events from snapshot writes', () => {
  it('a first write appends one event counting the added slots, with its id and fetchedAt', async () => {
    const D = '2026-12-01'
    const r = await write(14, D, [rawSlot(D, '04:00'), rawSlot(D, '05:00')], 1)
    expect(r.eventId).toBeGreaterThan(0)
    const events = await eventsOf(14, D)
    expect(events).toEqual([
      { id: r.eventId, productId: 14, date: D, fetchedAt: at(1).toISOString(), slotsAdded: 2, slotsRemoved: 0, slotsChanged: 0, soldOut: false },
    ])
    await until(() => heard.some((e) => e.id === r.eventId))
    expect(heard.find((e) => e.id === r.eventId)).toEqual(events[0])
  })

  it('a write that changes nothing emits nothing', async () => {
    const D = '2026-12-02'
    const slots = [rawSlot(D, '04:00'), rawSlot(D, '05:00')]
    await write(14, D, slots, 1)
    const r = await write(14, D, slots, 2)
    expect(r.changed).toBe(false)
    expect(r.eventId).toBeUndefined()
    expect(await eventsOf(14, D)).toHaveLength(1)
  })

  it('a vanished slot counts as removed, a price change as changed, a new one as added', async () => {
    const D = '2026-12-03'
    await write(14, D, [rawSlot(D, '04:00'), rawSlot(D, '05:00'), rawSlot(D, '06:00')], 1)
    const repriced = rawSlot(D, '05:00')
    repriced.paxAvailability[1]!.price.finalPrice = 99.99
    await write(14, D, [repriced, rawSlot(D, '06:00'), rawSlot(D, '07:00')], 2)
    const [, second] = await eventsOf(14, D)
    expect(second).toMatchObject({ slotsAdded: 1, slotsRemoved: 1, slotsChanged: 1, soldOut: false })
  })

  it('a day going from seats to none emits soldOut: true; back to seats does not', async () => {
    const D = '2026-12-04'
    await write(15, D, [rawSlot(D, '04:00', { remaining: 3 }), rawSlot(D, '05:00', { remaining: 1 })], 1)
    await write(15, D, [rawSlot(D, '04:00', { remaining: 0 }), rawSlot(D, '05:00', { remaining: 0 })], 2)
    await write(15, D, [rawSlot(D, '04:00', { remaining: 2 }), rawSlot(D, '05:00', { remaining: 0 })], 3)
    const events = await eventsOf(15, D)
    expect(events.map((e) => [e.slotsChanged, e.soldOut])).toEqual([
      [0, false],
      [2, true],
      [1, false],
    ])
  })

  it('a writer that waited on the day behind the one that sold it out does not call it sold out again', async () => {
    const D = '2026-12-09'
    await write(15, D, [rawSlot(D, '04:00', { remaining: 5 })], 1)
    // The first writer's transaction stays open (uncommitted) until `commit` is called.
    let commit!: () => void
    const committed = new Promise<void>((r) => (commit = r))
    let wrote!: () => void
    const written = new Promise<void>((r) => (wrote = r))
    const first = db.prisma.$transaction(async (tx) => {
      await writeInTransaction(tx, { productId: 15, date: D, slots: validSlots(D, [rawSlot(D, '04:00', { remaining: 0 })]), fetchedAt: at(2) })
      wrote()
      await committed
    }, SNAPSHOT_TX)
    await written
    // The second writer queues on the day's lock while the first is uncommitted.
    const repriced = rawSlot(D, '04:00', { remaining: 0 })
    repriced.paxAvailability[0]!.price.finalPrice = 1
    const second = write(15, D, [repriced], 3)
    await new Promise((r) => setTimeout(r, 100))
    commit()
    await first
    expect(await second).toMatchObject({ changed: true, soldOut: false })
    expect((await eventsOf(15, D)).map((e) => e.soldOut)).toEqual([false, true, false])
  })

  it('a day already without seats on its first fetch is not "sold out" (it went nowhere)', async () => {
    const D = '2026-12-05'
    await write(15, D, [rawSlot(D, '04:00', { remaining: 0 })], 1)
    expect((await eventsOf(15, D))[0]).toMatchObject({ slotsAdded: 1, soldOut: false })
  })

  it('a day that closes (all slots gone) counts them removed and sold out', async () => {
    const D = '2026-12-06'
    await write(15, D, [rawSlot(D, '04:00', { remaining: 5 })], 1)
    await write(15, D, [], 2)
    expect((await eventsOf(15, D))[1]).toMatchObject({ slotsAdded: 0, slotsRemoved: 1, slotsChanged: 0, soldOut: true })
  })

  it('concurrent writers: ids grow and NOTIFY delivers them in id order, each once', async () => {
    const ours = (e: ChangeEvent) => e.date >= '2026-12-10' && e.date <= '2026-12-21'
    const writes = Array.from({ length: 24 }, (_, i) => {
      const date = `2026-12-${String(10 + (i % 12)).padStart(2, '0')}`
      // Each (product, day) once: a second write of a day could commit before the first and make it stale (dropped, no event).
      return write(i < 12 ? 14 : 16, date, [rawSlot(date, '04:00', { remaining: 10 + i })], 10 + i)
    })
    const results = await Promise.all(writes)
    const ids = results.map((r) => r.eventId!).filter(Boolean)
    expect(new Set(ids).size).toBe(24)
    await until(() => heard.filter(ours).length >= 24)
    expect(heard.filter(ours).map((e) => e.id)).toEqual([...ids].sort((a, b) => a - b))
  })
})

describe('a product removed while its fetch was in flight', () => {
  it('the snapshot and the failure are dropped, not written back, never a foreign-key error', async () => {
    await db.prisma.$executeRawUnsafe('INSERT INTO product (id) VALUES (77)')
    const D = '2026-12-07'
    // Hold the removal open, start the write: it must wait on the product row, then find it gone.
    let pending!: ReturnType<typeof write>
    let pendingFailure!: ReturnType<typeof recordFetchFailure>
    await db.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('DELETE FROM product WHERE id = 77')
      pending = write(77, D, [rawSlot(D, '04:00')], 1)
      pendingFailure = recordFetchFailure(db.prisma, { productId: 77, date: D, at: at(1), outcome: 'error', error: 'HTTP 503', nextDueAt: at(5) })
      await new Promise((r) => setTimeout(r, 100))
    })
    expect(await pending).toMatchObject({ dropped: true, changed: false })
    expect(await pendingFailure).toEqual({ dropped: true })
    // And after the removal, straight away.
    expect(await write(77, D, [rawSlot(D, '04:00')], 2)).toMatchObject({ dropped: true })
    for (const table of ['slot', 'day_fetch_state', 'change_event']) {
      const rows = await db.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${table} WHERE product_id = 77`)
      expect(rows[0]!.n, table).toBe(0)
    }
  })

  it('a failure for an existing product is still recorded', async () => {
    expect(
      await recordFetchFailure(db.prisma, { productId: 16, date: '2026-12-08', at: at(1), outcome: 'error', error: 'HTTP 503', nextDueAt: at(5) }),
    ).toEqual({ dropped: false })
  })
})

describe('retention', () => {
  it('prunes events older than the retention and keeps the rest', async () => {
    const D = '2026-12-30'
    const old = await write(16, D, [rawSlot(D, '04:00')], 1)
    const recent = await write(16, D, [rawSlot(D, '04:00', { remaining: 1 })], 2)
    await db.prisma.$executeRawUnsafe(`UPDATE change_event SET created_at = now() - interval '25 hours' WHERE id = $1`, old.eventId)
    expect(await pruneChanges(db.prisma, 24 * 3_600_000, 1)).toBeGreaterThanOrEqual(1)
    const left = (await eventsOf(16, D)).map((e) => e.id)
    expect(left).toEqual([recent.eventId])
  })

  it('the feed runs retention as a scheduled job, the first run at start', async () => {
    const D = '2026-12-31'
    const old = await write(16, D, [rawSlot(D, '04:00')], 3)
    await db.prisma.$executeRawUnsafe(`UPDATE change_event SET created_at = now() - interval '2 hours' WHERE id = $1`, old.eventId)
    const pruned: number[] = []
    const feed = createChangeFeed({
      connectionString: db.directUrl,
      prisma: db.prisma,
      retentionMs: 3_600_000,
      logger: { info: (o: { pruned?: number }) => void (o.pruned && pruned.push(o.pruned)), warn() {} },
    })
    await feed.start()
    await until(() => pruned.length > 0)
    await feed.stop()
    expect(pruned).toEqual([1])
    expect(await eventsOf(16, D)).toEqual([])
  })
})

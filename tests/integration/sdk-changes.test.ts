import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { createSlotsyncClient, SlotsyncError, type ChangeEvent, type FetchLike, type Product } from '../../sdk/src/index.ts'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import { ADMIN_TOKEN, createTestApi, seedDay, type TestApi } from '../helpers/api.ts'
import { rawSlot } from '../helpers/partner-data.ts'

// The SDK's subscription and catalogue methods against two real API
// instances (Fastify + tRPC over SSE) on one real database.
const NOW = zonedTimeToInstant('2026-12-01', '09:00', 'Asia/Singapore')
let a: TestApi
let b: TestApi
beforeAll(async () => {
  a = await createTestApi({ now: NOW })
  b = await createTestApi({ db: a.db, now: NOW })
  await a.listen()
  await b.listen()
  await a.db.prisma.product.createMany({ data: [{ id: 14 }, { id: 15 }] })
})
afterAll(async () => {
  await b?.close()
  await a?.close()
})

let second = 0
const write = (productId: number, date: string, remaining: number) =>
  seedDay(a.db, productId, date, [rawSlot(date, '04:00', { remaining })], new Date(NOW + ++second * 1000))
async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now()
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('types', () => {
  it('events are typed from the router', () => {
    expectTypeOf<ChangeEvent>().toEqualTypeOf<{
      id: number
      productId: number
      date: string
      fetchedAt: string
      slotsAdded: number
      slotsRemoved: number
      slotsChanged: number
      soldOut: boolean
    }>()
    expectTypeOf<Product>().toHaveProperty('timeZone').toEqualTypeOf<string>()
  })
})

describe('watchChanges', () => {
  it('delivers events in id order, filtered, and keeps the last id', async () => {
    const client = createSlotsyncClient({ url: a.url })
    const got: ChangeEvent[] = []
    const watch = client.watchChanges({ productIds: [15], onEvent: (e) => got.push(e) })
    try {
      // Without lastEventId it starts at "now": wait until the server has it subscribed.
      await until('the subscription on the server', () => a.changes.stats().subscribers >= 1)
      await write(14, '2026-12-02', 3)
      await write(15, '2026-12-02', 3)
      await write(15, '2026-12-02', 0)
      await until('two events', () => got.length >= 2)
      expect(got.map((e) => [e.productId, e.soldOut])).toEqual([
        [15, false],
        [15, true],
      ])
      expect(got[0]!.id).toBeLessThan(got[1]!.id)
      expect(watch.lastEventId).toBe(got[1]!.id)
    } finally {
      watch.close()
    }
  })

  it('resumes by itself on another instance after its stream ends: every missed event once, in order', async () => {
    // The client's fetch goes wherever `target` says, like a load balancer after A goes away.
    let target = a.url
    const routed: FetchLike = (url, init) => fetch(url.replace(a.url, target), init)
    const client = createSlotsyncClient({ url: a.url, fetch: routed })
    const got: ChangeEvent[] = []
    const watch = client.watchChanges({ productIds: [14], lastEventId: 0, onEvent: (e) => got.push(e), reconnect: { minDelayMs: 200, maxDelayMs: 400 } })
    try {
      const before = await a.db.prisma.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM change_event WHERE product_id = 14')
      await write(14, '2026-12-03', 1)
      await until('the first event', () => got.length >= before[0]!.n + 1)
      target = b.url
      // A ends its open streams (as on shutdown); writes land before the client is back.
      a.changes.closeStreams()
      await write(14, '2026-12-03', 2)
      await write(14, '2026-12-03', 3)
      const rows = await a.db.prisma.$queryRawUnsafe<{ id: string }[]>('SELECT id::text AS id FROM change_event WHERE product_id = 14 ORDER BY change_event.id')
      await until('every event', () => got.length >= rows.length)
      await new Promise((r) => setTimeout(r, 200))
      expect(got.map((e) => e.id)).toEqual(rows.map((r) => Number(r.id)))
    } finally {
      watch.close()
    }
  })

  it('bad input ends the watch with a SlotsyncError naming the field', async () => {
    const client = createSlotsyncClient({ url: b.url })
    const errors: SlotsyncError[] = []
    client.watchChanges({ productIds: [0], onEvent: () => {}, onError: (e) => errors.push(e) })
    await until('an error', () => errors.length > 0)
    expect(errors[0]).toBeInstanceOf(SlotsyncError)
    expect(errors[0]).toMatchObject({ code: 'BAD_REQUEST', retryable: false })
    expect(errors[0]!.field).toMatch(/^productIds/)
  })
})

describe('products', () => {
  it('upsert, list and remove through the SDK with the admin token; 401 without', async () => {
    const admin = createSlotsyncClient({ url: b.url, adminToken: ADMIN_TOKEN })
    const p = await admin.products.upsert.mutate({ productId: 600, timeZone: 'Asia/Tokyo' })
    expect(p).toMatchObject({ id: 600, timeZone: 'Asia/Tokyo' })
    expect((await admin.products.list.query()).products.map((x) => x.id)).toContain(600)
    const bad = await admin.products.upsert.mutate({ productId: 601, timeZone: 'Nowhere/Atall' }).catch((e: unknown) => e)
    expect(bad).toMatchObject({ code: 'BAD_REQUEST', status: 400, field: 'timeZone' })
    const anon = createSlotsyncClient({ url: b.url })
    expect(await anon.products.list.query().catch((e: unknown) => e)).toMatchObject({ code: 'UNAUTHORIZED', status: 401 })
    expect(await admin.products.remove.mutate({ productId: 600 })).toEqual({ removed: 600 })
    expect(await admin.products.remove.mutate({ productId: 600 }).catch((e: unknown) => e)).toMatchObject({ code: 'NOT_FOUND', status: 404 })
  })
})

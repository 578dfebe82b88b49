import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import { createTestApi, seedDay, type TestApi } from '../helpers/api.ts'
import { rawSlot } from '../helpers/partner-data.ts'
import { openSse, type SseClient } from '../helpers/sse.ts'

// GET /api/v1/changes on one instance: real Postgres, real HTTP, real SSE.
const TZ = 'Asia/Singapore'
const NOW = zonedTimeToInstant('2026-12-01', '09:00', TZ)
let api: TestApi
const open: SseClient[] = []
beforeAll(async () => {
  api = await createTestApi({ now: NOW })
  await api.listen()
  await api.db.prisma.product.createMany({ data: [{ id: 14 }, { id: 15 }] })
})
afterAll(async () => {
  for (const c of open) c.close()
  await api?.close()
})

let minute = 0
const write = (productId: number, date: string, remaining: number) =>
  seedDay(api.db, productId, date, [rawSlot(date, '04:00', { remaining })], new Date(NOW + ++minute * 1000))
async function sse(query = '', headers: Record<string, string> = {}) {
  const c = await openSse(`${api.url}/api/v1/changes${query}`, headers)
  open.push(c)
  return c
}
async function errorOf(query: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${api.url}/api/v1/changes${query}`, { headers })
  return { status: res.status, body: (await res.json()) as { error: { code: string; message: string; field?: string } } }
}

describe('GET /api/v1/changes', () => {
  it('streams events as text/event-stream with their ids, filtered by product', async () => {
    const all = await sse()
    const only15 = await sse('?productId=15')
    const both = await sse('?productId=15&productId=14')
    expect(all.status).toBe(200)
    expect(all.contentType).toMatch(/^text\/event-stream/)
    await write(14, '2026-12-02', 5)
    await write(15, '2026-12-02', 5)
    await write(15, '2026-12-02', 0)
    const events = await all.waitFor(3)
    expect(events.map((e) => [e.productId, e.soldOut])).toEqual([
      [14, false],
      [15, false],
      [15, true],
    ])
    expect(all.ids).toEqual(events.map((e) => String(e.id)))
    expect(events[0]!.id).toBeLessThan(events[1]!.id)
    const e15 = await only15.waitFor(2)
    expect(e15.map((e) => e.id)).toEqual(events.slice(1).map((e) => e.id))
    expect((await both.waitFor(3)).map((e) => e.id)).toEqual(events.map((e) => e.id))
  })

  it('Last-Event-ID resumes: every later event once, in id order, then live ones', async () => {
    const base = await sse('?productId=14')
    await write(14, '2026-12-03', 1)
    await write(14, '2026-12-03', 2)
    await write(14, '2026-12-03', 3)
    const seen = await base.waitFor(3)
    base.close()
    const resumed = await sse('?productId=14', { 'last-event-id': String(seen[0]!.id) })
    const replay = await resumed.waitFor(2)
    expect(replay.map((e) => e.id)).toEqual(seen.slice(1).map((e) => e.id))
    await write(14, '2026-12-03', 4)
    const after = await resumed.waitFor(3)
    expect(after[2]!.id).toBeGreaterThan(seen[2]!.id)
    expect(new Set(after.map((e) => e.id)).size).toBe(3)
  })

  it('a write that changes nothing emits nothing', async () => {
    const c = await sse('?productId=15')
    await write(15, '2026-12-04', 7)
    await c.waitFor(1)
    await write(15, '2026-12-04', 7)
    await write(15, '2026-12-05', 7)
    const events = await c.waitFor(2)
    expect(events.map((e) => e.date)).toEqual(['2026-12-04', '2026-12-05'])
  })

  it.each([
    ['', { 'last-event-id': 'abc' }, 'Last-Event-ID'],
    ['', { 'last-event-id': '-5' }, 'Last-Event-ID'],
    ['?lastEventId=1.5', {}, 'lastEventId'],
    ['?productId=abc', {}, 'productId'],
    ['?productId=14&productId=0', {}, 'productId'],
  ])('bad input %s %j → 400 naming %s', async (query, headers, field) => {
    const r = await errorOf(query, headers)
    expect(r.status).toBe(400)
    expect(r.body.error).toMatchObject({ code: 'BAD_REQUEST', field })
    expect(r.body.error.message).toContain(field)
  })
})

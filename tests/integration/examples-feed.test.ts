import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import { ADMIN_TOKEN, createTestApi, seedDay, type TestApi } from '../helpers/api.ts'
import { rawSlot } from '../helpers/partner-data.ts'
import { startExample } from '../helpers/process.ts'

// examples/products.ts and examples/watch-sold-out.ts as a user runs them,
// against the real API (HTTP, tRPC over SSE) on a real database.
const NOW = zonedTimeToInstant('2026-12-01', '09:00', 'Asia/Singapore')
let api: TestApi
beforeAll(async () => {
  api = await createTestApi({ now: NOW })
  await api.listen()
  await api.db.prisma.product.createMany({ data: [{ id: 14 }, { id: 15 }] })
})
afterAll(async () => api?.close())

const start = (name: string, args: string[], env: Record<string, string> = {}) => startExample(name, args, { SLOTSYNC_URL: api.url, ...env })
const admin = { SLOTSYNC_ADMIN_TOKEN: ADMIN_TOKEN }

describe('products.ts', () => {
  it('adds, lists and removes a product', async () => {
    const added = await start('products', ['add', '700', '--time-zone', 'Asia/Tokyo'], admin).done
    expect(added.stdout.trim()).toBe('added 700  Asia/Tokyo  not fetched yet')
    const listed = await start('products', ['list'], admin).done
    expect(listed.stdout.split('\n')).toContain('  700  Asia/Tokyo  not fetched yet')
    const removed = await start('products', ['remove', '700'], admin).done
    expect(removed).toMatchObject({ code: 0, stdout: 'removed 700: no longer synced, its stored days deleted\n' })
    expect((await api.db.prisma.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM product WHERE id = 700'))[0]!.n).toBe(0)
  })

  it('exits 1 naming the field for a bad time zone, 1 for an unknown product, 2 without a token', async () => {
    const bad = await start('products', ['add', '701', '--time-zone', 'Atlantis/Capital'], admin).done
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^error BAD_REQUEST 400 \(field: timeZone\)/)
    const unknown = await start('products', ['remove', '999'], admin).done
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/^error NOT_FOUND 404/)
    const anon = await start('products', ['list']).done
    expect(anon.code).toBe(2)
  })
})

describe('watch-sold-out.ts', () => {
  it('prints a day as it sells out, only for the products asked, and the id to resume from', async () => {
    const D = '2026-12-05'
    await seedDay(api.db, 14, D, [rawSlot(D, '04:00', { remaining: 2 })], new Date(NOW - 60_000))
    await seedDay(api.db, 15, D, [rawSlot(D, '04:00', { remaining: 2 })], new Date(NOW - 60_000))
    const w = start('watch-sold-out', ['14', '--limit', '1'])
    // Without --from-id it starts at "now": wait until the server has it subscribed.
    for (let i = 0; i < 800 && api.changes.stats().subscribers < 1; i++) await new Promise((r) => setTimeout(r, 25))
    expect(api.changes.stats().subscribers).toBe(1)
    await seedDay(api.db, 15, D, [rawSlot(D, '04:00', { remaining: 0 })], new Date(NOW - 30_000))
    await seedDay(api.db, 14, D, [rawSlot(D, '04:00', { remaining: 1 })], new Date(NOW - 30_000))
    await seedDay(api.db, 14, D, [rawSlot(D, '04:00', { remaining: 0 })], new Date(NOW - 20_000))
    const run = await w.done
    const rows = await api.db.prisma.$queryRawUnsafe<{ id: string }[]>(
      'SELECT id::text AS id FROM change_event WHERE product_id = 14 AND sold_out ORDER BY change_event.id DESC LIMIT 1',
    )
    const id = rows[0]!.id
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(`${D}  product 14  SOLD OUT  (event ${id}, fetched ${new Date(NOW - 20_000).toISOString()})\n`)
    expect(run.stderr).toContain(`last event id: ${id} (resume with --from-id ${id})`)
  })

  it('--from-id replays what happened since, --all prints every change', async () => {
    const rows = await api.db.prisma.$queryRawUnsafe<{ id: string }[]>('SELECT id::text AS id FROM change_event WHERE product_id = 15 ORDER BY change_event.id')
    const run = await start('watch-sold-out', ['15', '--all', '--from-id', '0', '--limit', String(rows.length)]).done
    expect(run.code).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines.map((l) => /event (\d+)/.exec(l)![1])).toEqual(rows.map((r) => r.id))
    expect(lines.at(-1)).toContain('SOLD OUT')
  })

  it('exits 2 with the usage for a bad --from-id', async () => {
    const run = await start('watch-sold-out', ['--from-id', 'x']).done
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('usage: watch-sold-out.ts')
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import { maintainHorizon } from '../../server/sync/claims.ts'
import { createTestApi, type TestApi } from '../helpers/api.ts'

/**
 * `GET /api/v1/sync/explain` on a real database: each kind of pair answers
 * the policy's reason for it, and bad input answers 4xx naming the field.
 */
const TZ = 'Asia/Singapore'
const NOW = zonedTimeToInstant('2026-12-01', '14:00', TZ)
const MIN = 60_000
const H = 60 * MIN
let api: TestApi

beforeAll(async () => {
  api = await createTestApi({ now: NOW })
  const db = api.db.prisma
  await db.$executeRawUnsafe(`INSERT INTO product (id, time_zone) VALUES (1, $1), (2, $1), (3, $1)`, TZ)
  await db.$executeRawUnsafe(`UPDATE product SET paused = true WHERE id = 3`)
  await maintainHorizon(db, NOW)
  const set = (sql: string, ...args: unknown[]) => db.$executeRawUnsafe(`UPDATE day_fetch_state SET ${sql}`, ...args)
  // Everything fetched an hour ago with slots; each planned day stale at its tier's target from then.
  await set(
    `last_fetched_at = $1, last_outcome = 'ok', slot_count = 3, last_slot_start = '18:00', due_reason = 'tier', next_due_at = $1::timestamptz + interval '24 hours'`,
    new Date(NOW - H),
  )
  const day = (off: number) => `date = '2026-12-01'::date + ${off}`
  // Days 1–7 of product 1 stale in 3 h, product 2's an hour later: product 1's go first.
  await set(`next_due_at = $1 WHERE product_id = 1 AND ${day(3)}`, new Date(NOW + 3 * H))
  await set(`next_due_at = $1 WHERE product_id = 2 AND ${day(3)}`, new Date(NOW + 4 * H))
  // A failure backing off, a day seen empty, a run-now.
  await set(
    `due_reason = 'backoff', next_due_at = $1, last_outcome = 'error', last_error = 'HTTP 503' WHERE product_id = 1 AND ${day(4)}`,
    new Date(NOW + 2 * MIN),
  )
  await set(`due_reason = 'empty', next_due_at = $1, last_outcome = 'empty', slot_count = 0 WHERE product_id = 1 AND ${day(5)}`, new Date(NOW + 20 * H))
  await set(`forced_at = $1 WHERE product_id = 1 AND ${day(6)}`, new Date(NOW - MIN))
})
afterAll(async () => {
  await api?.close()
})

const explain = (q: string) => api.app.inject({ method: 'GET', url: `/api/v1/sync/explain?${q}` })

describe('sync/explain', () => {
  it('a planned day: its tier, when it goes stale, its rank in the tier and the plan slice of its turn', async () => {
    const first = (await explain('productId=1&date=2026-12-04')).json()
    const second = (await explain('productId=2&date=2026-12-04')).json()
    expect(first).toMatchObject({ productId: 1, date: '2026-12-04', tier: 'week', servedAs: 'week', reason: 'plan', lastOutcome: 'ok', lastError: null })
    expect(first.staleAt).toBe(new Date(NOW + 3 * H).toISOString())
    expect(second.rank).toBe(first.rank + 1)
    // Its turn comes no later than it goes stale (there is room), and lies in the slice named.
    const due = Date.parse(first.dueAt)
    expect(due).toBeLessThanOrEqual(NOW + 3 * H)
    expect(Date.parse(first.slice.from)).toBeLessThanOrEqual(due)
    expect(Date.parse(first.slice.to)).toBeGreaterThan(due)
    expect(Date.parse(second.dueAt)).toBeGreaterThanOrEqual(due)
  })

  it('timed days answer their own reason and time: a backoff, a re-check of an empty day, a run-now, a paused product', async () => {
    expect((await explain('productId=1&date=2026-12-05')).json()).toMatchObject({
      reason: 'backoff',
      dueAt: new Date(NOW + 2 * MIN).toISOString(),
      lastError: 'HTTP 503',
      rank: null,
    })
    expect((await explain('productId=1&date=2026-12-06')).json()).toMatchObject({
      reason: 'empty',
      tier: 'week',
      servedAs: 'month',
      dueAt: new Date(NOW + 20 * H).toISOString(),
    })
    expect((await explain('productId=1&date=2026-12-07')).json()).toMatchObject({ reason: 'run' })
    expect((await explain('productId=3&date=2026-12-07')).json()).toMatchObject({ reason: 'paused', dueAt: null })
  })

  it('bad input is a 4xx naming the field; an unknown product 404', async () => {
    const past = await explain('productId=1&date=2026-11-30')
    expect(past.statusCode).toBe(400)
    expect(past.json().error.message).toMatch(/^date/)
    expect((await explain('productId=1&date=2026-02-30')).statusCode).toBe(400)
    const id = await explain('productId=abc&date=2026-12-04')
    expect(id.statusCode).toBe(400)
    expect(id.json().error.message).toMatch(/productId/)
    expect((await explain('productId=99&date=2026-12-04')).statusCode).toBe(404)
  })
})

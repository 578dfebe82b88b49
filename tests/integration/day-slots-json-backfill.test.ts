import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays } from '../../server/calendar/days.ts'
import { horizonAt } from '../../server/calendar/horizon.ts'
import { applyMigrations } from '../../server/db/migrate.ts'
import type { PartnerSlotInput } from '../../server/partner/schema.ts'
import { createCatalogue } from '../../server/sandbox/catalogue.ts'
import { seededRandom } from '../../server/sandbox/rng.ts'
import { recordFetchFailure } from '../../server/sync/snapshot.ts'
import { createTestApi, seedDay, type TestApi } from '../helpers/api.ts'

/**
 * /slots sends the day's stored JSON text as is, so the text a database
 * upgraded from before it existed gets from the migration's backfill (built
 * in SQL) must be byte for byte what the snapshot writer stores
 * (JSON.stringify in TypeScript): string escapes, number forms and order
 * included. /dates' text, built by its statement, is held to the same.
 */
const MIGRATION = '20261130063000_day_slots_json'
const TZ = 'Asia/Singapore'
const NOW = Date.parse('2026-12-01T02:00:00Z')
const TODAY = horizonAt(NOW, TZ).today

// Everything JSON escapes (quote, backslash, control characters), what it
// does not (U+2028, non-ASCII), code points above U+FFFF (order differs from UTF-16's).
const TEXTS = ['Adult', 'say "hi"', 'back\\slash', 'two\nlines\tand\r\u0001\u001f\b\f', '\u2028', 'Äpfel', '😀', '\uFF21', '</script>', '']
const TYPES = ['ADULT', 'adult_12~99', 'CHILD', '😀KID', '\uFF21DULT', 'b', 'B', 'a"q']
const IDS = ['A', 'b', 'B', '😀', '\uFF21', 'a\\z', 'Z"']
const PRICES = [0, 0.5, 10, 12.34, 100.1, 9_999_999_999.99]

function trickyDay(date: string, r: () => number): PartnerSlotInput[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!
  const ids = IDS.filter(() => r() < 0.5)
  return ids.map((providerSlotId) => {
    const startTime = pick(['09:00', '10:30', '10:30', '23:59'])
    return {
      startDate: date,
      startTime,
      endTime: startTime,
      providerSlotId,
      remaining: r() < 0.3 ? 0 : Math.floor(r() * 50),
      currencyCode: 'SGD',
      variantId: 1,
      paxAvailability: TYPES.filter(() => r() < 0.3).map((type) => {
        const finalPrice = pick(PRICES)
        return {
          type,
          name: pick(TEXTS),
          description: r() < 0.2 ? null : pick(TEXTS),
          isPrimary: r() < 0.15,
          min: 0,
          max: 9,
          remaining: Math.floor(r() * 9),
          price: { discount: 0, finalPrice, originalPrice: r() < 0.5 ? finalPrice : pick(PRICES), currencyCode: r() < 0.2 ? 'USD' : 'SGD' },
        }
      }),
    }
  })
}

let api: TestApi
beforeAll(async () => {
  api = await createTestApi({ now: NOW })
})
afterAll(async () => api?.close())

const stored = () =>
  api.db.prisma.$queryRaw<{ product_id: number; date: string; fetched_at: Date; body: string }[]>`
    SELECT product_id, date::text, fetched_at, body FROM day_slots_json ORDER BY product_id, date`

describe(`migration ${MIGRATION}`, () => {
  it('backfills each fetched day with exactly the text the snapshot writer stores', { timeout: 120_000 }, async () => {
    const catalogue = createCatalogue({ seed: 7, products: 1, timeZone: TZ })
    const ids = catalogue.productIds()
    await api.db.prisma.product.createMany({ data: [...ids.map((id) => ({ id })), { id: 90 }] })
    for (const id of ids) {
      for (let i = 0; i < 20; i++) {
        const date = addDays(TODAY, i)
        await seedDay(api.db, id, date, catalogue.inventory(id, date, NOW) as PartnerSlotInput[], new Date(NOW - i * 1000))
      }
    }
    const r = seededRandom(60)
    for (let i = 0; i < 40; i++) await seedDay(api.db, 90, addDays(TODAY, i), trickyDay(addDays(TODAY, i), r), new Date(NOW))
    await seedDay(api.db, 90, addDays(TODAY, 40), [], new Date(NOW)) // fetched, closed
    await recordFetchFailure(api.db.prisma, {
      productId: 90,
      date: addDays(TODAY, 41),
      at: new Date(NOW),
      outcome: 'error',
      error: 'boom',
      nextDueAt: new Date(NOW),
    })

    const written = await stored()
    expect(written.length).toBe(ids.length * 20 + 41)
    expect(written.some((w) => w.body.includes('\\u0001') && w.body.includes('😀') && w.body.includes('9999999999.99'))).toBe(true)
    const urls = [...ids, 90].flatMap((id) => Array.from({ length: 42 }, (_, i) => `/api/v1/experience/${id}/slots?date=${addDays(TODAY, i)}`))
    const answers = async () => Promise.all(urls.map(async (url) => (await api.app.inject({ url })).body))
    const served = await answers()
    // Texts built by SQL (/dates) or stored (/slots) are sent as is: they must be JSON.stringify's own.
    const dates = await Promise.all([...ids, 90].map(async (id) => (await api.app.inject({ url: `/api/v1/experience/${id}/dates` })).body))
    for (const body of [...served, ...dates]) expect(body).toBe(JSON.stringify(JSON.parse(body)))
    expect(dates.some((d) => d.includes('9999999999.99') && d.includes('"finalPrice":0,'))).toBe(true)

    // Back to the database as it was before the migration: same days, no stored text.
    await api.db.prisma.$executeRawUnsafe(`DROP TABLE day_slots_json; DELETE FROM "_prisma_migrations" WHERE migration_name = '${MIGRATION}';`)
    expect((await applyMigrations(api.db.url)).applied).toEqual([MIGRATION])
    const backfilled = await stored()
    for (const [i, w] of written.entries()) expect(backfilled[i]).toEqual(w)
    expect(backfilled.length).toBe(written.length)
    expect(await answers()).toEqual(served)
  })
})

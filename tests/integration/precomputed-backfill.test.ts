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
 * An upgrade must answer correctly at once: a database holding snapshots
 * written before the precomputed columns existed gets them from the
 * migration's backfill, and what the backfill computes must be exactly what
 * the snapshot writer (pricing.ts, in TypeScript) stores for the same days.
 */
const MIGRATION = '20261130040000_precomputed_reads'
const TZ = 'Asia/Singapore'
const NOW = Date.parse('2026-12-01T02:00:00Z')
const TODAY = horizonAt(NOW, TZ).today

// Types that make the rule's corners: ADULT in any case, not at the start, a
// non-ASCII look-alike, code points above U+FFFF, and price ties.
const TYPES = ['ADULT', 'adult_12~99', 'Adultish', 'XADULT', 'ÄDULT', 'CHILD', 'INFANT', 'SENIOR', 'B', 'a', '😀KID', '\uFF21DULT']
const PRICES = [0, 0.5, 10, 10, 12.34, 99.99, 100]

function trickyDay(date: string, r: () => number): PartnerSlotInput[] {
  const slots: PartnerSlotInput[] = []
  const n = Math.floor(r() * 5)
  for (let i = 0; i < n; i++) {
    const types = TYPES.filter(() => r() < 0.2)
    slots.push({
      startDate: date,
      startTime: `0${i}:00`,
      endTime: `0${i}:30`,
      providerSlotId: `T${i}`,
      remaining: r() < 0.3 ? 0 : Math.floor(r() * 50),
      currencyCode: 'SGD',
      variantId: 1,
      paxAvailability: types.map((type) => {
        const finalPrice = PRICES[Math.floor(r() * PRICES.length)]!
        return {
          type,
          name: type,
          description: '',
          isPrimary: r() < 0.15,
          min: 0,
          max: 9,
          remaining: 5,
          price: { discount: 0, finalPrice, originalPrice: finalPrice + (r() < 0.5 ? 0 : 1), currencyCode: r() < 0.2 ? 'USD' : 'SGD' },
        }
      }),
    })
  }
  return slots
}

let api: TestApi
beforeAll(async () => {
  api = await createTestApi({ now: NOW })
})
afterAll(async () => api?.close())

const stored = async () => ({
  slots: await api.db.prisma.$queryRaw<unknown[]>`
    SELECT product_id, date::text, provider_slot_id, price_final::text, price_original::text, price_currency, primary_pax_type
    FROM slot ORDER BY product_id, date, provider_slot_id`,
  summaries: await api.db.prisma.$queryRaw<unknown[]>`
    SELECT product_id, date::text, open, lowest_final_price::text, lowest_original_price::text, lowest_currency, slot_count, total_remaining, fetched_at
    FROM day_summary ORDER BY product_id, date`,
})

describe(`migration ${MIGRATION}`, () => {
  it('backfills slot prices and day summaries exactly as the snapshot writer stores them', { timeout: 120_000 }, async () => {
    const catalogue = createCatalogue({ seed: 7, products: 2, timeZone: TZ })
    const ids = catalogue.productIds()
    await api.db.prisma.product.createMany({ data: [...ids.map((id) => ({ id })), { id: 90 }] })
    for (const id of ids) {
      for (let i = 0; i < 60; i++) {
        const date = addDays(TODAY, i)
        await seedDay(api.db, id, date, catalogue.inventory(id, date, NOW) as PartnerSlotInput[], new Date(NOW - i * 1000))
      }
    }
    const r = seededRandom(15)
    for (let i = 0; i < 60; i++) await seedDay(api.db, 90, addDays(TODAY, i), trickyDay(addDays(TODAY, i), r), new Date(NOW))
    // A day only ever failed: fetch state but nothing fetched, so no summary.
    await recordFetchFailure(api.db.prisma, {
      productId: 90,
      date: addDays(TODAY, 60),
      at: new Date(NOW),
      outcome: 'error',
      error: 'boom',
      nextDueAt: new Date(NOW),
    })

    const written = await stored()
    const answers = async () =>
      Promise.all(
        [...ids, 90]
          .flatMap((id) => [`/api/v1/experience/${id}/dates`, ...[0, 1, 7, 30].map((i) => `/api/v1/experience/${id}/slots?date=${addDays(TODAY, i)}`)])
          .map(async (url) => (await api.app.inject({ url })).body),
      )
    const served = await answers()
    expect(written.summaries.length).toBe((ids.length + 1) * 60)
    expect(written.slots.filter((s) => (s as { primary_pax_type: string | null }).primary_pax_type === null).length).toBeGreaterThan(0)

    // Back to the database as it was before the migration: same data, no precomputed columns.
    await api.db.prisma.$executeRawUnsafe(`
      DROP TABLE day_summary;
      ALTER TABLE slot DROP COLUMN price_final, DROP COLUMN price_original, DROP COLUMN price_currency, DROP COLUMN primary_pax_type;
      DELETE FROM "_prisma_migrations" WHERE migration_name = '${MIGRATION}';`)

    expect((await applyMigrations(api.db.url)).applied).toEqual([MIGRATION])
    expect(await stored()).toEqual(written)
    expect(await answers()).toEqual(served)
  })
})

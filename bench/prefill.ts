import pLimit from 'p-limit'
import type { PrismaClient } from '../server/db/generated/client.ts'
import { daysBetween, localDate } from '../server/calendar/days.ts'
import { HORIZON_DAYS } from '../server/calendar/horizon.ts'
import { validateDay } from '../server/partner/schema.ts'
import type { Catalogue } from '../server/sandbox/catalogue.ts'
import type { PlanStrategy } from '../server/sync/engine.ts'
import { summarize } from '../server/sync/mapping.ts'
import { writeDaySnapshot } from '../server/sync/snapshot.ts'
import { hash01 } from '../server/sandbox/rng.ts'
import { tierOf } from '../server/sync/tiers.ts'
import { addDays, weekday } from '../server/calendar/days.ts'
import { isWeekdayClosed, type WeekdayStats } from '../server/sync/policy/deadline.ts'

/**
 * Starts a simulation from a steady state instead of an empty database: a
 * cold start spends ~15 h of budget fetching 27,000 days once, which no
 * steady-state figure should include. Every (product, day) is written as if
 * fetched at a random moment within its tier's target before `at`, with the
 * answer the catalogue gave then, and scheduled by the strategy under test
 * with what it would have learned (weekdays closed across the horizon):
 * otherwise the first simulated day is spent learning closed days again.
 */
/** When the pre-fill has (product, date) last fetched: a fixed random moment within its tier's target before `at` (`today` is at's local date). */
export function prefilledAt(productId: number, date: string, at: number, today: string): number {
  return at - Math.floor(hash01('prefill', productId, date) * tierOf(daysBetween(today, date))!.targetMs)
}

/** `todayLeadMs`: the engine's (its nextDue decides the pre-filled due times as it would after these fetches). */
export async function prefill(prisma: PrismaClient, catalogue: Catalogue, strategy: PlanStrategy, at: number, todayLeadMs: number): Promise<number> {
  const limit = pLimit(8)
  // Each product's days are dates of its own zone.
  const todayOf = (productId: number) => localDate(at, catalogue.timeZone(productId))
  const jobs: Promise<void>[] = []
  for (const productId of catalogue.productIds()) {
    const today = todayOf(productId)
    const timeZone = catalogue.timeZone(productId)
    // What the engine would have learned by now: a weekday with no open day in the horizon is known closed.
    const answers = Array.from({ length: HORIZON_DAYS }, (_, i) => {
      const date = addDays(today, i)
      const fetchedAt = prefilledAt(productId, date, at, today)
      return { date, fetchedAt, body: catalogue.inventory(productId, date, fetchedAt) }
    })
    const byWeekday = new Map<number, WeekdayStats>()
    for (const a of answers) {
      const s = byWeekday.get(weekday(a.date)) ?? { open: 0, empty: 0 }
      if (a.body.length) s.open++
      else s.empty++
      byWeekday.set(weekday(a.date), s)
    }
    for (const { date, fetchedAt, body } of answers) {
      jobs.push(
        limit(async () => {
          const v = validateDay(body, date)
          if (!v.ok) throw new Error(`catalogue answer invalid: ${v.reason}`)
          const sum = summarize(v.slots)
          const next = strategy.nextDue(
            {
              date,
              timeZone,
              outcome: sum.slotCount ? 'ok' : 'empty',
              consecutiveFailures: 0,
              lastSlotStart: sum.lastSlotStart,
              weekdayKnownClosed: isWeekdayClosed(byWeekday.get(weekday(date))),
              todayLeadMs,
            },
            fetchedAt,
          )
          await writeDaySnapshot(prisma, {
            productId,
            date,
            slots: v.slots,
            fetchedAt: new Date(fetchedAt),
            nextDueAt: new Date(next.at),
            dueReason: next.reason,
          })
        }),
      )
    }
  }
  await Promise.all(jobs)
  return jobs.length
}

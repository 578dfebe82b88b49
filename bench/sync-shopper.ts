/**
 * Shoppers in the simulation (bench/sync-sim.ts): reads drawn from the demand
 * model (sync-demand.ts) and performed through the real availability service,
 * each judged against the partner's answer at that instant (sync-reads.ts),
 * and live checks arriving as a Poisson process from the same model.
 *
 * The service's read counter and live checker are reached through
 * `ShopperHooks`, built for each simulated instance by `shopperHooks` below:
 * the one place that wires them.
 */
import { createAvailabilityService } from '../server/availability/service.ts'
import type { AvailabilityService, SlotView } from '../server/availability/types.ts'
import { daySlotsView, slotClientPrice } from '../server/availability/precompute.ts'
import { addDays, localDate, zonedTimeToInstant, type IsoDate } from '../server/calendar/days.ts'
import type { Db } from '../server/db/client.ts'
import { validateDay } from '../server/partner/schema.ts'
import type { Catalogue } from '../server/sandbox/catalogue.ts'
import { seededRandom } from '../server/sandbox/rng.ts'
import type { SyncAssembly } from '../server/sync/index.ts'
import { demandModel, poissonGapMs, type DemandModel } from './sync-demand.ts'
import {
  bookableAccuracy,
  compareBookable,
  type LiveResult,
  liveStats,
  type ReadState,
  readFreshness,
  type BookableResult,
  type ReadTier,
  type TierShare,
} from './sync-reads.ts'

/** What the simulation calls on the service under test, besides its engine. */
export interface ShopperHooks {
  /** A shopper read (product, date): the service's demand counter counts it. */
  recordRead: (productId: number, date: IsoDate) => void
  /** A live check: answer the day fetched within `maxAgeMs`, or say why not. */
  liveCheck: (productId: number, date: IsoDate, maxAgeMs: number) => Promise<{ fresh: boolean; state?: string }>
  /**
   * Live checks at work (a query, a request at the partner, a write), not
   * waiting on the clock: the simulation moves its clock only once each is
   * parked in the sandbox's latency or done.
   */
  liveInFlight: () => number
}

/**
 * The hooks of one simulated instance: every shopper read is counted by the
 * instance's read counter (flushed by the engine's ranking on the simulated
 * clock), as the API counts a /slots read; live checks go through the
 * instance's live checker, whose partner requests the simulation waits for.
 */
export function shopperHooks(sync: SyncAssembly): ShopperHooks {
  return {
    recordRead: (id, date) => sync.demand.record(id, date),
    liveCheck: async (id, date, maxAgeMs) => {
      const r = await sync.live.check(id, date, maxAgeMs)
      return { fresh: r.status === 'fresh', state: r.status === 'refused' ? `refused:${r.by}` : r.status }
    },
    liveInFlight: () => sync.live.busy,
  }
}

export interface ShopperResult {
  readsPerHour: number
  reads: number
  /** Read-weighted freshness per tier, and the reads no tier counts (sync-reads.ts readTier). */
  weighted: Record<ReadTier, TierShare> & { outside: number }
  bookable: BookableResult
}

type Prisma = Pick<Db, '$queryRawUnsafe' | '$queryRaw'>

/** The day as /slots would answer it had it been fetched at `now`: the partner's answer through the writer's own view. */
export function partnerView(catalogue: Catalogue, productId: number, date: IsoDate, now: number): SlotView[] {
  const v = validateDay(catalogue.inventory(productId, date, now), date)
  if (!v.ok) throw new Error(`sandbox answer invalid: ${v.reason}`)
  return daySlotsView(date, v.slots, v.slots.map(slotClientPrice))
}

const STATE_SQL = `
SELECT k.i, f.last_outcome::text AS outcome, f.last_fetched_at AS fetched_at, f.last_slot_start
FROM unnest($1::int[], $2::date[]) WITH ORDINALITY AS k(product_id, date, i)
LEFT JOIN day_fetch_state f ON f.product_id = k.product_id AND f.date = k.date`

/** The demand reads: `perSample` at each sample instant, all counted and judged. */
export function shopperReads(o: {
  prisma: Prisma
  availability: AvailabilityService
  catalogue: Catalogue
  demand: DemandModel
  rnd: () => number
  perSample: number
  readsPerHour: number
  hooks: ShopperHooks
}) {
  const fresh = readFreshness()
  const book = bookableAccuracy()
  let reads = 0
  return {
    /** Draws the reads of one sample instant; the counter counts them all, and with `judge` each is judged. */
    async sample(now: number, judge: boolean) {
      if (o.perSample <= 0) return
      const drawn = Array.from({ length: o.perSample }, () => {
        const { productId, offset } = o.demand.draw(o.rnd)
        const tz = o.catalogue.timeZone(productId)
        // A shopper reads the product's days in its own calendar.
        const date = addDays(localDate(now, tz), offset)
        o.hooks.recordRead?.(productId, date)
        return { productId, offset, tz, date }
      })
      if (!judge) return
      const states = await o.prisma.$queryRawUnsafe<{ i: bigint; outcome: string | null; fetched_at: Date | null; last_slot_start: string | null }[]>(
        STATE_SQL,
        drawn.map((d) => d.productId),
        drawn.map((d) => d.date),
      )
      for (const s of states) {
        const d = drawn[Number(s.i) - 1]!
        const state: ReadState = {
          offset: d.offset,
          outcome: s.outcome,
          fetchedAt: s.fetched_at?.getTime() ?? null,
          lastSlotAt: s.last_slot_start ? zonedTimeToInstant(d.date, s.last_slot_start, d.tz) : null,
        }
        fresh.add(state, now)
        const served = await o.availability.slots(d.productId, d.date)
        const truth = partnerView(o.catalogue, d.productId, d.date, now)
        const startOf = (v: SlotView) => zonedTimeToInstant(v.startDate, v.startTime, d.tz)
        book.add(compareBookable(served.slots, truth, startOf, now), served.freshness.state === 'never')
        reads++
      }
    },
    result(): ShopperResult {
      return { readsPerHour: o.readsPerHour, reads, weighted: fresh.result(), bookable: book.result() }
    },
  }
}

/** Live checks arriving at `perHour` (Poisson), of days drawn from the demand model. */
export function liveChecks(o: {
  perHour: number
  maxAgeMs: number
  demand: DemandModel
  catalogue: Catalogue
  rnd: () => number
  now: () => number
  start: number
  check: NonNullable<ShopperHooks['liveCheck']>
}) {
  const stats = liveStats({ perHour: o.perHour, maxAgeS: o.maxAgeMs / 1000 })
  let nextAt = o.start + poissonGapMs(o.perHour, o.rnd())
  const pending = new Set<Promise<void>>()
  return {
    /** When the next check arrives (the simulation's clock stops there). */
    nextAt: () => nextAt,
    /** Starts every check due by `now`; each records its latency when it is answered. */
    fire(now: number) {
      while (nextAt <= now) {
        const { productId, offset } = o.demand.draw(o.rnd)
        const date = addDays(localDate(now, o.catalogue.timeZone(productId)), offset)
        stats.started()
        const p = o.check(productId, date, o.maxAgeMs).then(
          (r) => stats.answered(o.now() - now, r),
          (e: unknown) => stats.answered(o.now() - now, { fresh: false, state: `error: ${e instanceof Error ? e.message : String(e)}` }),
        )
        const tracked = p.finally(() => pending.delete(tracked))
        pending.add(tracked)
        nextAt += poissonGapMs(o.perHour, o.rnd())
      }
    },
    pending: () => pending.size,
    result: () => stats.result(),
  }
}

/** Seeds of the shoppers' streams, apart from the uniform reads' (42, 43), so adding shoppers leaves those draws as they were. */
const SEEDS = { ranking: 45, reads: 46, live: 47 }

/** The shoppers of one simulated instance: demand reads from the warm-up on, live checks while measuring. */
export function simShoppers(o: {
  sync: SyncAssembly
  prisma: Prisma
  catalogue: Catalogue
  clock: { now(): number }
  timeZone: string
  perSample: number
  readsPerHour: number
  measureFrom: number
  live?: { perHour: number; maxAgeMs: number }
}) {
  const hooks = shopperHooks(o.sync)
  // The same popularity order in every run on this catalogue, so runs compare.
  const demand = demandModel(o.catalogue.productIds(), seededRandom(SEEDS.ranking))
  const reads = shopperReads({
    prisma: o.prisma,
    // The real read path, as /slots answers: no cache, so a read sees the write before it.
    availability: createAvailabilityService({ prisma: o.prisma, clock: o.clock, defaultTimeZone: o.timeZone }),
    catalogue: o.catalogue,
    demand,
    rnd: seededRandom(SEEDS.reads),
    perSample: o.perSample,
    readsPerHour: o.readsPerHour,
    hooks,
  })
  const live =
    o.live &&
    liveChecks({
      ...o.live,
      demand,
      catalogue: o.catalogue,
      rnd: seededRandom(SEEDS.live),
      now: o.clock.now,
      start: o.measureFrom,
      check: hooks.liveCheck,
    })
  return {
    liveInFlight: hooks.liveInFlight,
    /** At each sample instant: reads counted always, judged only while measuring. */
    sample: (now: number, measuring: boolean) => reads.sample(now, measuring),
    /** On every step while measuring: start the checks due. */
    async step(now: number) {
      live?.fire(now)
    },
    nextLiveAt: () => (live ? live.nextAt() : undefined),
    result: (): { shopper?: ShopperResult; live?: LiveResult } => ({
      ...(o.perSample > 0 ? { shopper: reads.result() } : {}),
      ...(live ? { live: live.result() } : {}),
    }),
  }
}

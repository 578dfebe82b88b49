import type { IsoDate } from '../calendar/days.ts'
import type { Clock } from '../clock.ts'
import { Prisma, type Db } from '../db/client.ts'
import type { Logger } from '../logger.ts'
import { cadence, wakeOnSchedule } from './jobs.ts'
import { DEMAND_HALF_LIFE_MS } from './policy/demand.ts'

/**
 * Read counting: every read of a day adds to a count in memory, with no
 * write per read; once a minute the counts are added to `day_demand` in one
 * statement, decayed there by the law in policy/demand.ts. Each instance
 * flushes its own counts and the statement adds them to what is stored, so
 * several instances (a read replica with SYNC_ENABLED=false too) sum up.
 */

/** "Flushed each minute" (issue 27): also the cadence the engine re-plans at, so each plan sees the last minute's reads. */
export const FLUSH_EVERY_MS = 60_000

export interface ReadCounter {
  /** Counts one read of (productId, date); `weight` < 1 for a read that shows several days (it adds up to 1 over them). No I/O. */
  record(productId: number, date: IsoDate, weight?: number): void
  /** Adds the counts held so far to the database at the counter's clock now, and forgets them; returns how many days were flushed. On failure they are kept for the next flush. */
  flush(): Promise<number>
  /** Flushes when a minute of the counter's clock has passed since the last flush (the engine's and the simulation's cadence). */
  flushIfDue(): Promise<void>
  /** Production: flush every minute of real time until stop(). */
  start(): void
  /** Stops the timer and flushes what is held. */
  stop(): Promise<void>
  /** Days with counts held in memory, not yet flushed. */
  readonly pending: number
}

export interface ReadCounterOptions {
  db: Pick<Db, '$executeRaw'>
  clock: Pick<Clock, 'now'>
  logger?: Pick<Logger, 'warn'>
  everyMs?: number
}

type Counts = Map<number, Map<IsoDate, number>>

export function createReadCounter(o: ReadCounterOptions): ReadCounter {
  const everyMs = o.everyMs ?? FLUSH_EVERY_MS
  const due = cadence(everyMs)
  let counts: Counts = new Map()
  let days = 0
  let timer: { stop(): void } | undefined
  let flushing: Promise<number> | undefined

  function add(into: Counts, productId: number, date: IsoDate, n: number): void {
    let byDate = into.get(productId)
    if (!byDate) {
      byDate = new Map()
      into.set(productId, byDate)
    }
    const had = byDate.get(date)
    if (had === undefined) days++
    byDate.set(date, (had ?? 0) + n)
  }

  async function write(taken: Counts, now: number): Promise<number> {
    const productIds: number[] = []
    const dates: string[] = []
    const reads: number[] = []
    // Rows in one order on every instance: two flushes of the same days queue on their row locks instead of deadlocking.
    for (const id of [...taken.keys()].sort((a, b) => a - b)) {
      const byDate = taken.get(id)!
      for (const date of [...byDate.keys()].sort()) {
        productIds.push(id)
        dates.push(date)
        reads.push(byDate.get(date)!)
      }
    }
    if (!productIds.length) return 0
    await flushCounts(o.db, productIds, dates, reads, now)
    return productIds.length
  }

  async function flushOnce(): Promise<number> {
    const now = o.clock.now()
    due.ran(now)
    const taken = counts
    counts = new Map()
    days = 0
    try {
      return await write(taken, now)
    } catch (err) {
      for (const [id, byDate] of taken) for (const [date, n] of byDate) add(counts, id, date, n)
      throw err
    }
  }

  const counter: ReadCounter = {
    record(productId, date, weight = 1) {
      if (!(weight > 0) || !Number.isFinite(weight)) return
      add(counts, productId, date, weight)
    },
    flush() {
      // One flush at a time per instance: the next waits for the one in progress, then flushes what came since.
      const run = (flushing ?? Promise.resolve(0)).catch(() => 0).then(flushOnce)
      flushing = run
      void run
        .finally(() => {
          if (flushing === run) flushing = undefined
        })
        .catch(() => {})
      return run
    },
    async flushIfDue() {
      if (!due.due(o.clock.now())) return
      await counter.flush().catch((err: unknown) => {
        // A database down or a read replica not migrated yet: the counts wait for the next minute.
        o.logger?.warn({ err: err instanceof Error ? err.message : String(err), days }, 'flushing read counts failed; kept for the next flush')
      })
    },
    start() {
      timer ??= wakeOnSchedule([{ id: 'read counts flush', everyMs }], () => void counter.flushIfDue())
    },
    async stop() {
      timer?.stop()
      timer = undefined
      await counter.flush().catch((err: unknown) => {
        o.logger?.warn({ err: err instanceof Error ? err.message : String(err), days }, 'flushing read counts at stop failed; they are lost')
      })
    },
    get pending() {
      return days
    },
  }
  return counter
}

const HALF_LIFE_S = DEMAND_HALF_LIFE_MS / 1000

/**
 * Adds counts to `day_demand` as of `now`: the stored count decays from its
 * instant to `now` (policy/demand.ts `merged`), then the new reads are added,
 * in one statement, row by row under the row's lock, so concurrent flushes
 * from several instances add up. Only days in the horizon are kept (a read
 * of a day whose fetch state is gone counts for nothing), and rows whose
 * day left the horizon (a past day, a removed product) are dropped. No
 * foreign key on purpose: its row lock on day_fetch_state would make the
 * engine's claims (FOR UPDATE SKIP LOCKED) skip a day while it is flushed.
 */
export async function flushCounts(db: Pick<Db, '$executeRaw'>, productIds: number[], dates: string[], reads: number[], now: number): Promise<void> {
  const at = new Date(now)
  await db.$executeRaw`
    INSERT INTO day_demand (product_id, date, reads, at)
    SELECT u.product_id, u.date, u.reads, ${at}::timestamptz
    FROM unnest(${productIds}::int[], ${dates}::date[], ${reads}::float8[]) AS u(product_id, date, reads)
    WHERE EXISTS (SELECT 1 FROM day_fetch_state f WHERE f.product_id = u.product_id AND f.date = u.date)
    ORDER BY u.product_id, u.date
    ON CONFLICT (product_id, date) DO UPDATE
    SET reads = day_demand.reads::float8 * power(0.5::float8, GREATEST(0, extract(epoch FROM EXCLUDED.at - day_demand.at))::float8 / ${HALF_LIFE_S}::float8)
              + EXCLUDED.reads,
        at = GREATEST(day_demand.at, EXCLUDED.at)`
  await db.$executeRaw`
    DELETE FROM day_demand d
    WHERE NOT EXISTS (SELECT 1 FROM day_fetch_state f WHERE f.product_id = d.product_id AND f.date = d.date)`
}

/**
 * A day's count decayed to the statement's instant, as SQL over `day_demand
 * dd` (joined by `DEMAND_JOIN`), 0 for a day never read: what the candidate
 * list carries and explain answers. `now` is an SQL expression.
 */
export const demandSql = (now: string) =>
  `COALESCE(dd.reads::float8 * power(0.5::float8, GREATEST(0, extract(epoch FROM ${now} - dd.at))::float8 / ${HALF_LIFE_S}::float8), 0)`
export const DEMAND_JOIN = 'LEFT JOIN day_demand dd ON dd.product_id = f.product_id AND dd.date = f.date'

/** A day's stored count decayed to `now` (explain). */
export async function demandOf(db: Pick<Db, '$queryRaw'>, productId: number, date: string, now: number): Promise<number> {
  const rows = await db.$queryRaw<{ demand: number }[]>(
    Prisma.sql`WITH n AS (SELECT ${new Date(now)}::timestamptz AS now)
      SELECT ${Prisma.raw(demandSql('n.now'))} AS demand FROM n, day_demand dd WHERE dd.product_id = ${productId} AND dd.date = ${date}::date`,
  )
  return rows[0]?.demand ?? 0
}

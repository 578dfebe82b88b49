import type { Clock } from '../../server/clock.ts'
import type { Db } from '../../server/db/client.ts'
import type { Sandbox } from '../../server/sandbox/server.ts'
import type { FaultConfig } from '../../server/sandbox/faults.ts'
import type { PassReport } from '../../server/sync/engine.ts'
import type { SyncAssemblyOptions } from '../../server/sync/index.ts'
import { normalizeServed, storedDay } from './stored.ts'

/**
 * Shared pieces of the reliability suite (tests/reliability): fault mixes,
 * a simulated-time driver for engines, and the "stored day equals one
 * complete partner answer" check.
 */

/** `total` spread evenly over every exclusive fault kind the sandbox has, plus `slow` on top. */
export function everyFault(total: number, ms: { slowMs: number; hangMs: number }): Partial<FaultConfig> {
  const each = total / 7
  return {
    errorRate: each,
    timeoutRate: each,
    dropRate: each,
    malformedRate: each,
    wrongShapeRate: each,
    emptyRate: each,
    rateLimitNoBodyRate: each,
    slowRate: total / 2,
    ...ms,
  }
}

export interface Engine {
  runPass(): Promise<PassReport>
}

export interface DriveResult {
  passes: number
  reports: PassReport[]
}

/**
 * Runs every engine's pass at the same clock reading (concurrently, as
 * separate instances would), then jumps the clock to the next moment
 * anything can happen: a free place in the budget, a halt's end, or `idleStepMs`.
 * Stops at `until` (clock ms) or, with `untilIdle`, once every engine is idle.
 */
export async function drive(
  clock: Clock & { set(ms: number): void },
  engines: Engine[],
  opts: { until: number; idleStepMs?: number; untilIdle?: boolean; onStep?: (now: number) => Promise<void> | void },
): Promise<DriveResult> {
  const idleStep = opts.idleStepMs ?? 60_000
  const result: DriveResult = { passes: 0, reports: [] }
  while (clock.now() < opts.until) {
    const now = clock.now()
    const reports = await Promise.all(engines.map((e) => e.runPass()))
    result.passes++
    result.reports.push(...reports)
    if (opts.untilIdle && reports.every((r) => r.skipped === 'idle')) return result
    await opts.onStep?.(now)
    const next = Math.min(...reports.map((r) => (r.skipped === 'idle' || r.nextBudgetAt === undefined ? now + idleStep : r.nextBudgetAt)))
    clock.set(Math.min(opts.until, Math.max(now + 1_000, Math.min(next, now + idleStep))))
  }
  if (opts.untilIdle) throw new Error(`engines not idle by ${new Date(opts.until).toISOString()}`)
  return result
}

export interface DayMismatch {
  productId: number
  date: string
  stored: unknown
  served: unknown
}

/**
 * Every day the database knows must equal the last well-formed answer the
 * partner served for it (or be empty if none was ever served): a day written
 * halfway, mixed from two answers or written from a rejected one shows up here.
 */
export async function daysNotMatchingServed(
  prisma: Pick<Db, '$queryRawUnsafe'>,
  sandbox: Sandbox,
): Promise<{ checked: number; withSlots: number; mismatches: DayMismatch[] }> {
  const rows = await prisma.$queryRawUnsafe<{ product_id: number; date: string }[]>(
    `SELECT product_id, date::text AS date FROM day_fetch_state
     UNION SELECT product_id, date::text FROM slot ORDER BY 1, 2`,
  )
  const mismatches: DayMismatch[] = []
  let withSlots = 0
  for (const r of rows) {
    const served = sandbox.lastServed(r.product_id, r.date)
    const expected = served ? normalizeServed(served.body, r.date) : []
    const stored = await storedDay(prisma, r.product_id, r.date)
    if (stored.length) withSlots++
    if (JSON.stringify(stored) !== JSON.stringify(expected)) mismatches.push({ productId: r.product_id, date: r.date, stored, served: expected })
  }
  return { checked: rows.length, withSlots, mismatches }
}

export interface TimedLine {
  at: number
  level: string
  obj: Record<string, unknown>
  msg?: string
}

/** A sync logger that stamps each line with the (simulated) clock, per instance. */
export function timedLogger(clock: Clock): { lines: TimedLine[]; logger: SyncAssemblyOptions['logger'] } {
  const lines: TimedLine[] = []
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ at: clock.now(), level, obj: obj as Record<string, unknown>, msg })
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } }
}

/** Log lines that mention a unique-constraint violation (SQLSTATE 23505), in any field. */
export function uniqueViolations(lines: readonly unknown[]): unknown[] {
  return lines.filter((l) => /23505|unique constraint|duplicate key/i.test(JSON.stringify(l)))
}

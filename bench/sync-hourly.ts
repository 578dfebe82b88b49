import { daysBetween, localDate, startOfDay } from '../server/calendar/days.ts'
import type { Catalogue } from '../server/sandbox/catalogue.ts'
import type { BestSample } from './best-plan.ts'

/**
 * Where the budget goes, hour by hour: for each simulated hour (warm-up
 * included, so the evening before the measured midnight shows), the sampled
 * freshness of today and days 1–7 beside the minute-by-minute bound, and the
 * requests the sandbox received by what they were for. Requests are counted
 * from the sandbox's per-(product, date) counters, diffed at every sample.
 */
export const REQUEST_CLASSES = ['today', 'todayClosed', 'day1', 'week', 'day8', 'month', 'horizon', 'farClosed'] as const
export type RequestClass = (typeof REQUEST_CLASSES)[number]

export interface HourRow {
  /** Hours from the start of the measured window (negative: warm-up). */
  hour: number
  /** Local time the hour starts, "HH:00". */
  clock: string
  todayFresh: number | null
  weekFresh: number | null
  weekBound: number | null
  requests: Record<RequestClass, number>
}

/**
 * What a request for `offset` days ahead was for. Day 1 (tomorrow, today
 * after midnight) and day 8 (days 1–7 after midnight) are apart from their
 * tiers, to see what the tier promotions cost before midnight.
 */
export function classify(offset: number, open: boolean): RequestClass {
  if (offset === 0) return open ? 'today' : 'todayClosed'
  if (!open) return 'farClosed'
  if (offset === 1) return 'day1'
  if (offset <= 7) return 'week'
  if (offset === 8) return 'day8'
  return offset <= 30 ? 'month' : 'horizon'
}

const HOUR = 3_600_000
const emptyRequests = (): Record<RequestClass, number> => Object.fromEntries(REQUEST_CLASSES.map((c) => [c, 0])) as Record<RequestClass, number>

export function hourlyTracker(o: { catalogue: Catalogue; timeZone: string; measureFrom: number; bound: BestSample[] }) {
  const rows = new Map<number, HourRow & { acc: { tr: number; to: number; wr: number; wo: number } }>()
  const row = (t: number) => {
    const hour = Math.floor((t - o.measureFrom) / HOUR)
    let r = rows.get(hour)
    if (!r) {
      const at = o.measureFrom + hour * HOUR
      r = {
        hour,
        clock: new Intl.DateTimeFormat('en-GB', { timeZone: o.timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at),
        todayFresh: null,
        weekFresh: null,
        weekBound: null,
        requests: emptyRequests(),
        acc: { tr: 0, to: 0, wr: 0, wo: 0 },
      }
      rows.set(hour, r)
    }
    return r
  }
  const openCache = new Map<string, boolean>()
  const isOpen = (id: number, date: string) => {
    const key = `${id}/${date}`
    let v = openCache.get(key)
    if (v === undefined) {
      v = o.catalogue.inventory(id, date, startOfDay(date, o.catalogue.timeZone(id))).length > 0
      openCache.set(key, v)
    }
    return v
  }
  let last: Record<string, number> = {}
  let lastAt: number | undefined
  return {
    /** A freshness sample (the simulation's counts at `t`). */
    sample(t: number, s: { today_reads: number; today_ok: number; week_reads: number; week_ok: number }) {
      const r = row(t)
      r.acc.tr += s.today_reads
      r.acc.to += s.today_ok
      r.acc.wr += s.week_reads
      r.acc.wo += s.week_ok
    },
    /** The sandbox's counters at `t`: the requests since the last call count for the hour that call was in. */
    requests(t: number, counts: Record<string, number>) {
      if (lastAt !== undefined) {
        const r = row(lastAt)
        for (const [key, n] of Object.entries(counts)) {
          const d = n - (last[key] ?? 0)
          if (d <= 0) continue
          const [id, date] = key.split('/') as [string, string]
          // Offsets in the product's own calendar.
          const today = localDate(lastAt, o.catalogue.timeZone(Number(id)))
          r.requests[classify(daysBetween(today, date), isOpen(Number(id), date))] += d
        }
      }
      last = { ...counts }
      lastAt = t
    },
    /** The sandbox's counters were reset (at the start of the measured window). */
    restart() {
      last = {}
    },
    rows(): HourRow[] {
      const bound = new Map<number, [number, number]>()
      for (const s of o.bound) {
        const hour = Math.floor((s.t - o.measureFrom) / HOUR)
        const [f, n] = bound.get(hour) ?? [0, 0]
        bound.set(hour, [f + s.fresh.week, n + s.total.week])
      }
      return [...rows.values()]
        .sort((a, b) => a.hour - b.hour)
        .map(({ acc, ...r }) => {
          const [bf, bn] = bound.get(r.hour) ?? [0, 0]
          return { ...r, todayFresh: acc.tr ? acc.to / acc.tr : null, weekFresh: acc.wr ? acc.wo / acc.wr : null, weekBound: bn ? bf / bn : null }
        })
    },
  }
}

/** Compact table: one line per hour, requests by class. */
export function formatHourly(rows: readonly HourRow[]): string {
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(0)} %`)
  return [
    `| hour | today fresh | days 1–7 fresh | bound | ${REQUEST_CLASSES.join(' | ')} |`,
    `|---|---:|---:|---:|${REQUEST_CLASSES.map(() => '---:|').join('')}`,
    ...rows.map(
      (r) => `| ${r.clock} | ${pct(r.todayFresh)} | ${pct(r.weekFresh)} | ${pct(r.weekBound)} | ${REQUEST_CLASSES.map((c) => r.requests[c]).join(' | ')} |`,
    ),
  ].join('\n')
}

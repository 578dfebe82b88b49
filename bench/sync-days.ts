/**
 * A measured span of several calendar days, one row per day: what the
 * simulation samples (freshness per tier, accuracy, budget use, 429s) is
 * kept apart per day of the reference zone, so a week of consecutive days
 * reads as seven rows, not one average that hides the worst day.
 */
const DAY_MS = 86_400_000

export interface DayRow {
  /** The calendar date in the reference zone (midnight to midnight). */
  date: string
  todayWithinTarget: number
  weekWithinTarget: number
  monthWithinTarget: number
  accuracySlots: number
  accuracyDates: number
  /** Requests sent in minutes where due work was left waiting, per allowed request. */
  utilisationWhileDue: number
  requests: number
  rateLimited: number
  /** The minute-by-minute bound over the same day (best-plan.ts bestOverTime). */
  bound?: { today: number; week: number; month: number; monthAfterWeek: number }
}

interface Acc {
  tr: number
  to: number
  wr: number
  wo: number
  mr: number
  mo: number
  reads: number
  slots: number
  dates: number
  busySent: number
  busyMinutes: number
  requests: number
  rateLimited: number
}

export interface SampleCounts {
  today_reads: number
  today_ok: number
  week_reads: number
  week_ok: number
  month_reads: number
  month_ok: number
}

export function dayAccumulator(o: { measureFrom: number; limitPerMinute: number; dateOf: (dayIndex: number) => string }) {
  const days = new Map<number, Acc>()
  const at = (t: number) => {
    const i = Math.floor((t - o.measureFrom) / DAY_MS)
    let a = days.get(i)
    if (!a) {
      a = { tr: 0, to: 0, wr: 0, wo: 0, mr: 0, mo: 0, reads: 0, slots: 0, dates: 0, busySent: 0, busyMinutes: 0, requests: 0, rateLimited: 0 }
      days.set(i, a)
    }
    return a
  }
  let last = { requests: 0, rateLimited: 0 }
  return {
    sample(t: number, s: SampleCounts) {
      const a = at(t)
      a.tr += s.today_reads
      a.to += s.today_ok
      a.wr += s.week_reads
      a.wo += s.week_ok
      a.mr += s.month_reads
      a.mo += s.month_ok
    },
    read(t: number, slotsEqual: boolean, datesEqual: boolean) {
      const a = at(t)
      a.reads++
      if (slotsEqual) a.slots++
      if (datesEqual) a.dates++
    },
    /** A simulated minute that ended with due work left waiting for the window, and what it sent. */
    busyMinute(t: number, sent: number) {
      const a = at(t)
      a.busyMinutes++
      a.busySent += sent
    },
    /** The sandbox's running totals at `t`: the growth since the last call counts for the day `t` is in (called at least at each sample). */
    totals(t: number, now: { requests: number; rateLimited: number }) {
      const a = at(t - 1)
      a.requests += now.requests - last.requests
      a.rateLimited += now.rateLimited - last.rateLimited
      last = { ...now }
    },
    /** The sandbox's counters were reset. */
    restart() {
      last = { requests: 0, rateLimited: 0 }
    },
    rows(): DayRow[] {
      const r = (n: number, d: number) => n / Math.max(1, d)
      return [...days]
        .sort(([a], [b]) => a - b)
        .filter(([i]) => i >= 0)
        .map(([i, a]) => ({
          date: o.dateOf(i),
          todayWithinTarget: r(a.to, a.tr),
          weekWithinTarget: r(a.wo, a.wr),
          monthWithinTarget: r(a.mo, a.mr),
          accuracySlots: r(a.slots, a.reads),
          accuracyDates: r(a.dates, a.reads),
          utilisationWhileDue: r(a.busySent, a.busyMinutes * o.limitPerMinute),
          requests: a.requests,
          rateLimited: a.rateLimited,
        }))
    },
  }
}

/** One line per day: measured beside the bound, in points under it. */
export function formatDays(rows: readonly DayRow[]): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`
  const vs = (m: number, b?: number) => (b === undefined ? pct(m) : `${pct(m)} / ${pct(b)}`)
  return [
    '| day | today: measured / bound | days 1–7 | days 8–30 (bound ³) | accuracy (day / dates) | budget use while due | requests | 429s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (d) =>
        `| ${d.date} | ${vs(d.todayWithinTarget, d.bound?.today)} | ${vs(d.weekWithinTarget, d.bound?.week)} | ${vs(d.monthWithinTarget, d.bound?.monthAfterWeek)} | ${pct(d.accuracySlots)} / ${pct(d.accuracyDates)} | ${pct(d.utilisationWhileDue)} | ${d.requests.toLocaleString('en')} | ${d.rateLimited} |`,
    ),
  ].join('\n')
}

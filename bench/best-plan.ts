import { addDays, localDate, startOfDay, zonedTimeToInstant } from '../server/calendar/days.ts'
import type { Catalogue } from '../server/sandbox/catalogue.ts'
import { TIERS, type TierName } from '../server/sync/tiers.ts'

/**
 * What a day of perfect freshness costs, and the best any planner could do
 * with a given budget. Pure: computed from the catalogue, which is a pure
 * function of time, for the calendar day `day`.
 *
 * Every product's days are its own zone's local dates (the catalogue says
 * which zone): a catalogue over several zones has several midnights a day.
 *
 * The model: a day "read" counts only while it has something to read (today
 * before its last slot starts, other days with slots), as the simulation's
 * freshness figures do; closed days need nothing (a perfect planner knows
 * them). Keeping today within 15 min from midnight to its last slot takes
 * ceil(span / 15 min) fetches; days 1–7 within 4 h take 6 a day; days 8–30
 * within 24 h take 1; days 31–59 ask nothing of the business, so their need
 * is shown at their own 72 h refresh (1/3 a day). The best planner serves the
 * tiers in order, today first, each as fully as the budget left allows.
 */
export type Needs = Record<TierName, number>

export function dailyNeeds(catalogue: Pick<Catalogue, 'inventory' | 'timeZone'>, productIds: readonly number[], day: string): Needs {
  const needs: Needs = { today: 0, week: 0, month: 0, horizon: 0 }
  const [today, week, , horizon] = TIERS
  for (const id of productIds) {
    // Each product's `day` is its own local date, from its own midnight.
    const timeZone = catalogue.timeZone(id)
    const dayStart = startOfDay(day, timeZone)
    const slots = catalogue.inventory(id, day, dayStart)
    if (slots.length) {
      const last = slots
        .map((s) => s.startTime)
        .sort()
        .at(-1)!
      const span = zonedTimeToInstant(day, last, timeZone) - dayStart
      needs.today += Math.max(1, Math.ceil(span / today.targetMs))
    }
    for (let offset = 1; offset <= 59; offset++) {
      if (!catalogue.inventory(id, addDays(day, offset), dayStart).length) continue
      if (offset <= week.toOffset) needs.week += 86_400_000 / week.targetMs
      else if (offset <= 30) needs.month += 1
      else needs.horizon += 86_400_000 / horizon.targetMs
    }
  }
  return needs
}

/** Per tier, the share of its need the budget covers when tiers are served in order (1 = fully fresh). */
export function bestShares(needs: Needs, budgetPerDay: number): Record<TierName, number> {
  let left = budgetPerDay
  const out = {} as Record<TierName, number>
  for (const t of TIERS) {
    const need = needs[t.name]
    const spent = Math.min(need, Math.max(0, left))
    out[t.name] = need === 0 ? 1 : spent / need
    left -= spent
  }
  return out
}

/**
 * The same "tiers served in order" best, resolved in time: the daily sums
 * above hide that today's need is not spread over the day. From midnight
 * until the first last-slot has started, every open product's today needs a
 * request each 15 min; in a catalogue where most products open every day
 * that alone is the whole key, and nothing is left for days 1–7 however
 * well the day averages out.
 *
 * A fluid upper bound, minute by minute: at an instant `t` a tier can have at
 * most as many fresh days as requests it could have had in the last target
 * period, after the tiers before it took what they needed (today first:
 * min(budget, open todays / 15 min, tomorrow's open days counted from
 * 15 min before midnight); then days 1–7 at their steady rate,
 * plus the catch-up of those left stale meanwhile). Each zone's today
 * comes from its own midnight: with products in several zones, today's need
 * arrives once per zone, at that zone's midnight. Days 8–30 are also
 * bounded with days 1–7 at their bound first, charging days 1–7 the least
 * that takes (`monthAfterWeek`): the steady rate is neither what the
 * evening before a crunch asks nor the least.
 * No planner beats it; a perfect one reaches it. Shares are weighted by the
 * days counted at each sample instant, as the simulation's are.
 */
export interface BestOverTimeOptions {
  from: number
  to: number
  sampleEveryMs: number
  perMinute: number
  /**
   * Charge today's need from midnight only (the first, looser bound, kept to
   * report beside the corrected one). By default tomorrow's open days ask for
   * one request each in the last 15 min before midnight: a read of today at
   * 00:05 is fresh only if its day was fetched after 23:50, as the
   * simulation measures age from the fetch whatever the day was then, so
   * any planner pays for today's first 15 min before midnight.
   */
  todayFromMidnight?: boolean
}

const MIN = 60_000

type Shares = Record<'today' | 'week' | 'month', number>

/** At one sampled instant: the days counted per tier, and how many of them the bound keeps fresh. */
export interface BestSample {
  t: number
  total: Shares
  fresh: Shares
  /** Days 8–30 fresh with days 1–7 at their bound first: the least days 1–7 must spend to get there is charged (`fresh.month` charges their steady rate). */
  monthAfterWeek?: number
}

export function bestOverTime(
  catalogue: Pick<Catalogue, 'inventory' | 'timeZone'>,
  productIds: readonly number[],
  o: BestOverTimeOptions,
): Shares & { monthAfterWeek: number } {
  const fresh = { today: 0, week: 0, month: 0 }
  const total = { today: 0, week: 0, month: 0 }
  let monthAfterWeek = 0
  for (const s of bestOverTimeSeries(catalogue, productIds, o)) {
    for (const k of ['today', 'week', 'month'] as const) {
      fresh[k] += s.fresh[k]
      total[k] += s.total[k]
    }
    monthAfterWeek += s.monthAfterWeek ?? 0
  }
  const month = Math.max(1, total.month)
  return {
    today: fresh.today / Math.max(1, total.today),
    week: fresh.week / Math.max(1, total.week),
    month: fresh.month / month,
    monthAfterWeek: monthAfterWeek / month,
  }
}

/** One zone's calendar: per local date, each open product's last slot start. Memoised. */
function zoneDays(catalogue: Pick<Catalogue, 'inventory'>, productIds: readonly number[], timeZone: string) {
  const [today, week, month] = TIERS
  const lastStarts = new Map<string, number[]>() // date → instants of each open product's last slot start
  const openIds = new Map<string, number[]>() // date → the products open that day, in the same order
  const dayInfo = (date: string) => {
    let lasts = lastStarts.get(date)
    if (!lasts) {
      const at = startOfDay(date, timeZone)
      lasts = []
      const ids: number[] = []
      for (const id of productIds) {
        const slots = catalogue.inventory(id, date, at)
        if (!slots.length) continue
        ids.push(id)
        lasts.push(
          zonedTimeToInstant(
            date,
            slots
              .map((s) => s.startTime)
              .sort()
              .at(-1)!,
            timeZone,
          ),
        )
      }
      lastStarts.set(date, lasts)
      openIds.set(date, ids)
    }
    return lasts
  }
  const openIn = (date: string, fromOff: number, toOff: number) => {
    let n = 0
    for (let off = fromOff; off <= toOff; off++) n += dayInfo(addDays(date, off)).length
    return n
  }
  /** Tomorrow's open days when the next midnight is within today's target, else 0. */
  const tomorrowSoon = (t: number) => {
    const tomorrow = addDays(localDate(t, timeZone), 1)
    return startOfDay(tomorrow, timeZone) - t > today.targetMs ? 0 : dayInfo(tomorrow).length
  }
  return {
    timeZone,
    dayInfo,
    openProducts: (date: string) => {
      dayInfo(date)
      return openIds.get(date)!
    },
    counts: (t: number) => {
      const date = localDate(t, timeZone)
      return {
        today: dayInfo(date).filter((last) => last > t).length,
        week: openIn(date, week.fromOffset, week.toOffset),
        month: openIn(date, month.fromOffset, month.toOffset),
      }
    },
    tomorrowSoon,
  }
}

/**
 * Per calendar date, what the catalogue holds, each product on its own
 * zone's calendar (`catalogue.timeZone`): counts at an instant add up the
 * zones, each at its own local date.
 */
export function catalogueDays(catalogue: Pick<Catalogue, 'inventory' | 'timeZone'>, productIds: readonly number[]) {
  const byZone = new Map<string, number[]>()
  for (const id of productIds) {
    const z = catalogue.timeZone(id)
    byZone.set(z, [...(byZone.get(z) ?? []), id])
  }
  const zones = [...byZone].map(([z, ids]) => zoneDays(catalogue, ids, z))
  const one = () => {
    // The per-day chain bound (chain-bound.ts) reads dates of one calendar.
    if (zones.length !== 1) throw new Error(`one time zone expected, the catalogue has ${zones.length}`)
    return zones[0]!
  }
  return {
    zones: zones.map((z) => z.timeZone),
    /** Products with slots on `date` (a catalogue of one zone). */
    openProducts: (date: string) => one().openProducts(date),
    /** Days counted per tier at instant `t`: today's open days before their last slot, open days 1–7 and 8–30, each in its zone. */
    counts: (t: number) => {
      const n = { today: 0, week: 0, month: 0 }
      for (const z of zones) {
        const c = z.counts(t)
        n.today += c.today
        n.week += c.week
        n.month += c.month
      }
      return n
    },
    /** Tomorrow's open days in the zones whose midnight is within today's target of `t`. */
    tomorrowSoon: (t: number) => zones.reduce((n, z) => n + z.tomorrowSoon(t), 0),
    /** Days today's tier must keep fresh or make fresh by each zone's next midnight: today's open ones, and in a zone's last 15 min its tomorrow's. */
    todayNeed(t: number, fromMidnight = false) {
      return zones.reduce((n, z) => n + z.counts(t).today + (fromMidnight ? 0 : z.tomorrowSoon(t)), 0)
    },
  }
}

export type CatalogueDays = ReturnType<typeof catalogueDays>

/** What the key leaves per minute after today's tier takes its need, for `minutes` minutes from `start`. */
export function leftAfterToday(days: CatalogueDays, start: number, minutes: number, perMinute: number, todayFromMidnight = false): Float64Array {
  const todayMinutes = TIERS[0].targetMs / MIN
  const l1 = new Float64Array(minutes + 1)
  for (let i = 0; i < l1.length; i++) {
    const t = start + i * MIN
    l1[i] = perMinute - Math.min(perMinute, days.todayNeed(t, todayFromMidnight) / todayMinutes)
  }
  return l1
}

/** The bound of `bestOverTime` per sampled instant, so it can be set beside a measured figure hour by hour. */
export function bestOverTimeSeries(catalogue: Pick<Catalogue, 'inventory' | 'timeZone'>, productIds: readonly number[], o: BestOverTimeOptions): BestSample[] {
  const [today, week, month] = TIERS
  const days = catalogueDays(catalogue, productIds)
  const { counts } = days
  // Leftover budget per minute after today (l1) and after days 1–7 at their
  // steady rate (l2), from a day before `from` to `to`.
  const start = o.from - month.targetMs
  const minutes = Math.ceil((o.to - start) / MIN)
  const weekSpan = week.targetMs / MIN
  const l1 = leftAfterToday(days, start, minutes, o.perMinute, o.todayFromMidnight)
  const l2 = new Float64Array(minutes + 1)
  const weekOpen = new Float64Array(minutes + 1)
  // Days 1–7 left stale while today took the key are owed afterwards (at
  // most one request each): the catch-up comes before days 8–30 get any.
  let owed = 0
  for (let i = 0; i < l1.length; i++) {
    const n = counts(start + i * MIN)
    weekOpen[i] = n.week
    const want = n.week / (week.targetMs / MIN) + owed
    const served = Math.min(l1[i]!, want)
    owed = Math.min(n.week, want - served)
    l2[i] = l1[i]! - served
  }
  const sum = (arr: Float64Array, end: number, spanMs: number) => {
    let s = 0
    for (let i = Math.max(0, end - spanMs / MIN); i < end; i++) s += arr[i]!
    return s
  }
  // Days 8–30 with days 1–7 at their bound first: see monthAfterWeekAt.
  const prefixL1 = new Float64Array(l1.length + 1)
  for (let i = 0; i < l1.length; i++) prefixL1[i + 1] = prefixL1[i]! + l1[i]!
  // What days 1–7's bound keeps fresh at each minute. In the last 15 min
  // before midnight tomorrow's open days may be fresh through the requests
  // charged to today (above), so they are not owed twice.
  const weekNeed = new Float64Array(minutes + 1)
  for (let s = 0; s <= minutes; s++) {
    const fresh = Math.min(weekOpen[s]!, prefixL1[s]! - prefixL1[Math.max(0, s - weekSpan)]!)
    weekNeed[s] = Math.max(0, fresh - days.tomorrowSoon(start + s * MIN))
  }
  const monthSpan = month.targetMs / MIN
  const a = new Float64Array(monthSpan)
  /**
   * The fewest requests days 1–7 must take in the day before minute `i` to
   * be at their bound at every instant of it: at each instant `s`, the last
   * 4 h must hold as many requests for days 1–7 as the bound keeps fresh
   * (each fresh day needs its own). Filling each shortfall at the latest
   * minutes with spare budget is the least any schedule spends on days 1–7
   * inside the day (a fill later serves every later instant its earlier
   * alternative would). Instants in the day's first 4 h are left out, as
   * their requests may lie before it, so the bound errs high, never low.
   * What the rest of l1 leaves is all days 8–30 could have had; they are
   * disjoint dates (days 9–31 yesterday), so no request counts twice.
   */
  const monthAfterWeekAt = (i: number) => {
    const lo = i - monthSpan
    a.fill(0)
    let inWindow = 0 // a over [s − weekSpan, s)
    for (let s = lo + weekSpan; s <= i; s++) {
      if (s > lo + weekSpan) inWindow -= a[s - 1 - weekSpan - lo]!
      let short = weekNeed[s]! - inWindow
      for (let x = s - 1; short > 1e-9 && x >= s - weekSpan; x--) {
        const take = Math.min(l1[x]! - a[x - lo]!, short)
        if (take <= 0) continue
        a[x - lo] = a[x - lo]! + take
        inWindow += take
        short -= take
      }
    }
    let spent = 0
    for (let k = 0; k < monthSpan; k++) spent += a[k]!
    return prefixL1[i]! - prefixL1[lo]! - spent
  }
  const out: BestSample[] = []
  for (let t = o.from; t < o.to; t += o.sampleEveryMs) {
    const i = Math.round((t - start) / MIN)
    const n = counts(t)
    out.push({
      t,
      total: n,
      fresh: {
        today: Math.min(n.today, (o.perMinute * today.targetMs) / MIN),
        week: Math.min(n.week, sum(l1, i, week.targetMs)),
        month: Math.min(n.month, sum(l2, i, month.targetMs)),
      },
      monthAfterWeek: Math.min(n.month, monthAfterWeekAt(i)),
    })
  }
  return out
}

import { addDays, daysBetween, localDate, startOfDay } from '../server/calendar/days.ts'
import { TIERS } from '../server/sync/tiers.ts'
import type { CatalogueDays } from './best-plan.ts'

/**
 * The best any planner could do for days 1–7 and then days 8–30, charging
 * each day 1–7 per day, as a linear program (solved by bench/bound.ts).
 *
 * The fluid bound of best-plan.ts counts any request of the last 4 h as a
 * fresh day 1–7, whichever day it fetched; a real day is fresh only through
 * its own fetches, a chain with gaps of at most 4 h. Here every date among
 * days 1–7 is a flow of its open days through "last fetched at slot k" and
 * "stale since read m" states, from the state the simulation starts in (the
 * pre-fill's fetch instant of each day), so a day's requests are its own.
 * Today is charged as in the fluid bound (what it needs each minute, first);
 * days 8–30, which need one request a day, are fluid per date (a request in
 * the day before a read counts for one of its days). Both tiers share one
 * budget per slot: what today leaves.
 *
 * Time is in slots of `slotMinutes`; reads are at slot starts. A fetch in
 * ((k−1)Δ, kΔ] is one "at slot k" and fresh for reads k..k+4h/Δ (the last
 * only if it fell exactly on kΔ: the relaxation allows it, so chains may
 * stretch to 4 h + Δ). Solved as an LP (days may be split), so the figures
 * are upper bounds on any schedule; stage 1 maximises days 1–7's fresh reads
 * over the whole span (their order comes first at every instant), stage 2
 * days 8–30's over the measured window with days 1–7 at least as fresh as
 * stage 1 kept them at every read. Held only to their total, stage 2 moved
 * their freshness out of the measured window into the warm-up (2026-12-02:
 * days 1–7 47.8 → 42.2 % there) and gave days 8–30 what that saved.
 */
export interface ChainBoundOptions {
  timeZone: string
  /** Where the simulated clock starts (the pre-fill's instant); requests before it are the pre-fill's. */
  start: number
  /** The measured window: days 8–30 count here; days 1–7 count from `start`. */
  from: number
  to: number
  perMinute: number
  slotMinutes: number
  /** When the pre-fill last fetched a (product, date). */
  prefilledAt: (productId: number, date: string) => number
  /** What the key leaves per minute after today, from `start` (best-plan.ts leftAfterToday). */
  leftAfterToday: Float64Array
}

export interface ChainModel {
  stage1: string
  /**
   * Stage 2 holds days 1–7 at least at `floor[j]` fresh days at every read j
   * (stage 1's own schedule, `weekByRead`), or summed over each `group` of
   * reads (an hour of a measured schedule, which meets its average there).
   */
  stage2: (floor: Float64Array, group?: number) => string
  /** Fresh days 1–7 at each read, and how many are counted there. */
  weekByRead: (cols: Record<string, { Primal: number }>) => Float64Array
  weekReads: Float64Array
  /** Days 8–30 fresh reads in the measured window, from a solution's columns. */
  monthFresh: (cols: Record<string, { Primal: number }>) => number
  /** Days 1–7 fresh reads in the measured window, from stage 1's or 2's columns. */
  weekMeasured: (cols: Record<string, { Primal: number }>) => number
  weekReadsMeasured: number
  monthReads: number
  /** Requests per hour from `start`, by tier, from a solution's columns. */
  hourly: (cols: Record<string, { Primal: number }>) => { week: number; month: number; cap: number; weekFresh: number }[]
  columns: number
}

const MIN = 60_000
const FETCH_COST = 1e-4

export function chainModel(days: Pick<CatalogueDays, 'openProducts'>, o: ChainBoundOptions): ChainModel {
  const [today, week, month] = TIERS
  const slotMs = o.slotMinutes * MIN
  const K = Math.round((o.to - o.start) / slotMs) // reads 0..K−1
  const J0 = Math.round((o.from - o.start) / slotMs)
  const W = week.targetMs / slotMs
  const W24 = month.targetMs / slotMs
  const readAt = (j: number) => o.start + j * slotMs
  const readDate = Array.from({ length: K }, (_, j) => localDate(readAt(j), o.timeZone))
  const cap = new Float64Array(K)
  for (let k = 1; k < K; k++) for (let i = (k - 1) * o.slotMinutes + 1; i <= k * o.slotMinutes; i++) cap[k]! += o.leftAfterToday[i] ?? 0

  const obj1: [string, number][] = [] // arc → days 1–7 reads it keeps fresh
  const rows: string[] = []
  const capTerms: string[][] = Array.from({ length: K }, () => [])
  const measured: [string, number][] = [] // arc → days 1–7 reads credited inside the measured window
  const spans: [string, number, number, Uint8Array][] = [] // arc → the reads it keeps fresh, and which count
  const weekReads = new Float64Array(K) // days 1–7 counted at each read
  // Days 1–7 not fresh at read j: a counted date's flow staying stale past it (fetched at j, a day is fresh at j).
  const staleTerms: string[][] = Array.from({ length: K }, () => [])
  const fetchCols: [string, number, 'week' | 'month'][] = []
  let weekReadsMeasured = 0
  let columns = 0

  const first = localDate(o.start, o.timeZone)
  const last = readDate[K - 1]!
  for (let date = addDays(first, 1); date <= addDays(last, week.toOffset); date = addDays(date, 1)) {
    const ids = days.openProducts(date)
    if (!ids.length) continue
    const credit = new Int32Array(K + 1) // prefix sums of "a read of a day 1–7"
    const creditM = new Int32Array(K + 1)
    for (let j = 0; j < K; j++) {
      const off = daysBetween(readDate[j]!, date)
      const c = off >= week.fromOffset && off <= week.toOffset ? 1 : 0
      credit[j + 1] = credit[j]! + c
      creditM[j + 1] = creditM[j]! + (j >= J0 ? c : 0)
    }
    weekReadsMeasured += creditM[K]! * ids.length
    const counts = new Uint8Array(K)
    for (let j = 0; j < K; j++) {
      counts[j] = credit[j + 1]! - credit[j]!
      weekReads[j]! += counts[j]! * ids.length
    }
    // Tomorrow's days fetched in the last 15 min before midnight are today's (charged above).
    const midnight = startOfDay(date, o.timeZone)
    const free = (k: number) => midnight - readAt(k) <= today.targetMs && midnight > readAt(k)
    const supplyF = new Map<number, number>()
    let supplyStale = 0
    for (const id of ids) {
      const k0 = Math.ceil((o.prefilledAt(id, date) - o.start) / slotMs)
      if (k0 + W >= 0) supplyF.set(k0, (supplyF.get(k0) ?? 0) + 1)
      else supplyStale++
    }
    const kmin = Math.min(0, ...supplyF.keys())
    const inF = new Map<number, string[]>()
    const outF = new Map<number, string[]>()
    const inS: string[][] = Array.from({ length: K }, () => [])
    const outS: string[][] = Array.from({ length: K }, () => [])
    const tag = `${date.replaceAll('-', '')}`
    const arc = (name: string, from: number, to: number) => {
      columns++
      const c = credit[to]! - credit[from]!
      if (c) obj1.push([name, c])
      const cm = creditM[to]! - creditM[from]!
      if (cm) measured.push([name, cm])
      if (c) spans.push([name, from, to, counts])
    }
    const push = (m: Map<number, string[]>, k: number, v: string) => {
      const l = m.get(k)
      if (l) l.push(v)
      else m.set(k, [v])
    }
    for (let k = kmin; k < K; k++) {
      if (k <= 0 && !supplyF.has(k)) continue
      const r0 = Math.max(k, 0)
      for (let k2 = Math.max(k + 1, 1); k2 <= Math.min(k + W + 1, K - 1); k2++) {
        const name = `f${tag}_${ix(k)}_${k2}`
        arc(name, r0, k2)
        push(outF, k, name)
        push(inF, k2, name)
      }
      if (k + W + 1 <= K - 1) {
        const name = `l${tag}_${ix(k)}`
        arc(name, r0, k + W + 1)
        push(outF, k, name)
        inS[k + W + 1]!.push(name)
      } else {
        const name = `q${tag}_${ix(k)}`
        arc(name, r0, K)
        push(outF, k, name)
      }
    }
    for (let m = 0; m < K; m++) {
      const stay = `s${tag}_${m}`
      columns++
      outS[m]!.push(stay)
      if (m + 1 < K) inS[m + 1]!.push(stay)
      if (m >= 1) {
        const name = `g${tag}_${m}`
        columns++
        outS[m]!.push(name)
        push(inF, m, name)
      }
    }
    for (let k = kmin; k < K; k++) {
      const ins = inF.get(k) ?? []
      const outs = outF.get(k) ?? []
      if (!ins.length && !outs.length) continue
      rows.push(`n${tag}_${ix(k)}: ${wrap([...outs.map((v) => `+ ${v}`), ...ins.map((v) => `- ${v}`)])} = ${supplyF.get(k) ?? 0}`)
      if (k >= 1 && !free(k)) for (const v of ins) capTerms[k]!.push(v)
      if (k >= 1) for (const v of ins) fetchCols.push([v, k, 'week'])
    }
    for (let m = 0; m < K; m++) {
      if (counts[m]) staleTerms[m]!.push(`s${tag}_${m}`)
      rows.push(`m${tag}_${m}: ${wrap([...outS[m]!.map((v) => `+ ${v}`), ...inS[m]!.map((v) => `- ${v}`)])} = ${m === 0 ? supplyStale : 0}`)
    }
  }

  // Days 8–30 read in the measured window: per date, requests y, their running sum p, fresh reads z.
  const obj2: string[] = []
  const monthCols: string[] = []
  const bounds: string[] = []
  let monthReads = 0
  const mFirst = readDate[J0]!
  for (let date = addDays(mFirst, month.fromOffset); date <= addDays(last, month.toOffset); date = addDays(date, 1)) {
    const n = days.openProducts(date).length
    if (!n) continue
    const tag = `${date.replaceAll('-', '')}`
    let credited = false
    for (let j = J0; j < K; j++) {
      const off = daysBetween(readDate[j]!, date)
      if (off < month.fromOffset || off > month.toOffset) continue
      credited = true
      monthReads += n
      const lo = j - W24 - 1
      rows.push(`z${tag}_${j}c: z${tag}_${j} - p${tag}_${j}${lo >= 1 ? ` + p${tag}_${lo}` : ''} <= 0`)
      bounds.push(`z${tag}_${j} <= ${n}`)
      obj2.push(`+ z${tag}_${j}`)
      monthCols.push(`z${tag}_${j}`)
      columns++
    }
    if (!credited) continue
    for (let k = 1; k < K; k++) {
      rows.push(`p${tag}_${k}c: p${tag}_${k} - y${tag}_${k}${k > 1 ? ` - p${tag}_${k - 1}` : ''} = 0`)
      capTerms[k]!.push(`y${tag}_${k}`)
      fetchCols.push([`y${tag}_${k}`, k, 'month'])
      columns += 2
    }
  }
  for (let k = 1; k < K; k++) if (capTerms[k]!.length) rows.push(`cap_${k}: ${wrap(capTerms[k]!.map((v) => `+ ${v}`))} <= ${cap[k]!.toFixed(6)}`)

  function weekByRead(cols: Record<string, { Primal: number }>): Float64Array {
    const fresh = new Float64Array(K)
    for (const [name, a, b, counts] of spans) {
      const x = cols[name]?.Primal ?? 0
      if (x > 1e-9) for (let j = a; j < b; j++) fresh[j]! += x * counts[j]!
    }
    return fresh
  }

  // A fetch that keeps nothing fresh costs a little, so the solution shows none (a read is worth 10,000 of them).
  const fetchCost = fetchCols.map(([v]) => `- ${FETCH_COST} ${v}`)
  const weekTerms = obj1.map(([name, c]) => `+ ${c} ${name}`)
  const lp = (objective: string[], extra: string[]) =>
    ['Maximize', ` obj: ${wrap(objective)}`, 'Subject To', ...extra, ...rows.map((r) => ` ${r}`), 'Bounds', ...bounds.map((b) => ` ${b}`), 'End', ''].join('\n')
  return {
    stage1: lp([...weekTerms, ...fetchCost], []),
    stage2: (floor, group = 1) => {
      // Reads j..j+group−1 together: fresh = counted − stale ≥ floor, with a hair of slack for the solver's tolerance.
      const held: string[] = []
      for (let j = 0; j < K; j += group) {
        const terms: string[] = []
        let most = 1e-7
        for (let i = j; i < Math.min(K, j + group); i++) {
          if (!weekReads[i]) continue
          terms.push(...staleTerms[i]!.map((v) => `+ ${v}`))
          most += weekReads[i]! - Math.min(floor[i]!, weekReads[i]!)
        }
        if (terms.length) held.push(` wk_${j}: ${wrap(terms)} <= ${most.toFixed(6)}`)
      }
      return lp([...obj2, ...fetchCost], held)
    },
    weekByRead,
    weekReads,
    monthFresh: (cols) => monthCols.reduce((s, name) => s + (cols[name]?.Primal ?? 0), 0),
    weekMeasured: (cols) => measured.reduce((s, [name, c]) => s + c * (cols[name]?.Primal ?? 0), 0),
    weekReadsMeasured,
    monthReads,
    hourly: (cols) => {
      const fresh = weekByRead(cols)
      const perHour = (60 / o.slotMinutes) | 0
      const out = Array.from({ length: Math.ceil(K / perHour) }, () => ({ week: 0, month: 0, cap: 0, weekFresh: 0 }))
      for (const [name, k, tier] of fetchCols) out[Math.floor(k / perHour)]![tier] += cols[name]?.Primal ?? 0
      for (let k = 1; k < K; k++) out[Math.floor(k / perHour)]!.cap += cap[k]!
      for (let h = 0; h < out.length; h++) {
        let f = 0
        let n = 0
        for (let j = h * perHour; j < Math.min(K, (h + 1) * perHour); j++) {
          f += fresh[j]!
          n += weekReads[j]!
        }
        out[h]!.weekFresh = n ? f / n : 1
      }
      return out
    },
    columns,
  }
}

/** A slot index in a column name: LP format reads "-" as a minus. */
const ix = (k: number) => (k < 0 ? `b${-k}` : `${k}`)

/** LP-format lines stay short: one term list broken every 8 terms. */
function wrap(terms: string[]): string {
  const lines: string[] = []
  for (let i = 0; i < terms.length; i += 8) lines.push(terms.slice(i, i + 8).join(' '))
  return lines.join('\n   ') || '0'
}

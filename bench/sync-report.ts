import { TIERS, type TierName } from '../server/sync/tiers.ts'
import type { Needs } from './best-plan.ts'
import { type DayRow, formatDays } from './sync-days.ts'
import { formatHourly, type HourRow } from './sync-hourly.ts'
import type { LiveResult } from './sync-reads.ts'
import type { ShopperResult } from './sync-shopper.ts'

/** What bench/sync-sim.ts measures, and how RESULTS.md shows it. */
export interface RunResult {
  queuedAtStart: number
  /** What status estimated at the start of the run. */
  etaAtStart: string | null
  drained: number
  leftAtEnd: number
}

export interface SimResult {
  strategy: string
  /** `live`: the smart planner with live checks arriving (`--live-per-hour`), to compare with its steady run. */
  scenario: 'steady' | 'run' | 'live'
  hours: number
  todayWithinTarget: number
  weekWithinTarget: number
  monthWithinTarget: number
  closedWithin24h: number
  farAvgAgeHours: number
  farMaxAgeHours: number
  accuracySlots: number
  accuracyDates: number
  accuracyReads: number
  neverFetchedAtEnd: number
  utilisation: number
  utilisationWhileDue: number
  busyShare: number
  requests: number
  requestsBeforeMeasuring: number
  rateLimited: number
  maxArrivalsInAnyWindow: number
  dbWrites: number
  realSeconds: number
  /** Per simulated hour, warm-up included (sync-hourly.ts); absent in runs before it was measured. */
  hourly?: HourRow[]
  /** Per calendar day of a `--days` run (sync-days.ts). */
  days?: DayRow[]
  run?: RunResult
  /** The demand reads (sync-shopper.ts): read-weighted freshness and bookable accuracy; absent in runs before they were measured. */
  shopper?: ShopperResult
  /** Live checks of a `live` run. */
  live?: LiveResult
}

export interface CatalogueReport {
  shape: string
  /** Simulated hours run before measuring, from the pre-filled state. */
  warmupHours?: number
  needs: Needs
  available: number
  usable: number
  best: Record<TierName, number>
  /** The same best resolved minute by minute over the measured window (best-plan.ts bestOverTime). */
  bestInTime?: Record<'today' | 'week' | 'month', number> & { monthAfterWeek?: number }
  /** The first, looser form of `bestInTime`, charging today's need from midnight only (best-plan.ts todayFromMidnight). */
  bestInTimeFromMidnight?: Record<'today' | 'week' | 'month', number>
  /** Accuracy of an ideal schedule (no engine): at the tier targets, and with the usable budget spread in proportion to need. */
  accuracyRef: { atTargets: { slots: number; dates: number }; budgetSpread: { slots: number; dates: number }; spread: number }
  results: SimResult[]
}

export interface SimReport {
  date: string
  /** The commit the run measured (`git rev-parse --short HEAD`; a trailing `+` when the tree had changes). */
  commit?: string
  /** CPU model, cores and Node version. */
  machine?: string
  cores: number
  limit: number
  products: number
  latency: string
  warmupHours: number
  /** The measured calendar day (absent in reports before it was an option: 2026-12-01). */
  day?: string
  catalogues: CatalogueReport[]
}

/** Warm-up hours shown before the measured ones: the evening whose work the first measured hours live on. */
const HOURLY_WARMUP_SHOWN = 6

const pct = (x: number) => `${(x * 100).toFixed(1)} %`
const share = (x: number | null | undefined) => (x == null ? '—' : pct(x))
const seconds = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`)

const DEMAND_NOTE = (s: ShopperResult) =>
  `⁴ Reads drawn from the demand model (bench/sync-demand.ts: products by a Zipf law of exponent 1 over a seeded popularity order, days ∝ 1/(1 + days ahead)), ${int(s.readsPerHour)} an hour, performed through the availability service and judged against the partner at that instant. Freshness: the share of reads whose stored day is within its tier's target (${int(s.reads)} reads; ${int(s.weighted.outside)} fall in no tier: days 31–59, today after its last slot, never fetched). Bookable: every slot's bookability for a party of 2 (not started, a price, 2 seats in the slot and in its primary pax type within its min/max) equal to the partner's, and its price where both sell it; reads with a slot shown bookable that is not ${int(s.bookable.withPhantom)}, with one hidden ${int(s.bookable.withHidden)}, with a wrong price ${int(s.bookable.withWrongPrice)}, of a day never fetched ${int(s.bookable.neverFetched)}.`

/** A run with live checks, beside the same planner's run without them. */
function liveText(r: SimResult, without: SimResult | undefined): string {
  const l = r.live!
  const vs = (a: number, b: number | undefined) => (b === undefined ? pct(a) : `${pct(a)} (${((a - b) * 100).toFixed(1)} pt against ${pct(b)} without)`)
  return `Live checks, ${r.strategy} planner, ${l.perHour} an hour from the demand model, maximum age ${l.maxAgeS} s, answered by the service's live checker: ${int(l.checks)} checks, **${pct(l.fresh)}** answered fresh, latency p50 ${seconds(l.p50Ms)} / p95 **${seconds(l.p95Ms)}** / max ${seconds(l.maxMs)} (simulated time from the check to its answer; ${int(l.checks - l.answered)} unanswered at the end; answers ${JSON.stringify(l.states)}). The scheduled tiers meanwhile: today ${vs(r.todayWithinTarget, without?.todayWithinTarget)}, days 1–7 ${vs(r.weekWithinTarget, without?.weekWithinTarget)}, days 8–30 ${vs(r.monthWithinTarget, without?.monthWithinTarget)}; 429s ${r.rateLimited}, max arrivals in any 60 s ${r.maxArrivalsInAnyWindow}.`
}
const int = (x: number) => Math.round(x).toLocaleString('en')

function catalogueSection(c: CatalogueReport, limit: number): string {
  const total = TIERS.reduce((n, t) => n + c.needs[t.name], 0)
  const needRows = TIERS.map(
    (t) => `| ${t.name} (days ${t.fromOffset}–${t.toOffset}) | ${int(c.needs[t.name])} | ${pct(c.needs[t.name] / c.available)} | ${pct(c.best[t.name])} |`,
  )
  const steady = c.results.filter((r) => r.scenario === 'steady')
  const head = `| figure | computed best: a day's sums / minute by minute ² | ${steady.map((r) => r.strategy).join(' | ')} | target |\n|---|---:|${steady.map(() => '---:|').join('')}---|`
  const afterWeek = c.bestInTime?.monthAfterWeek
  const best = (t: 'today' | 'week' | 'month') =>
    `${pct(c.best[t])} / ${c.bestInTime ? pct(c.bestInTime[t]) : '—'}${t === 'month' && afterWeek !== undefined ? `, ${pct(afterWeek)} ³` : ''}`
  const rows: [string, string, (r: SimResult) => string, string][] = [
    ["today's reads within 15 min", best('today'), (r) => pct(r.todayWithinTarget), '≥ 99 %'],
    ['days 1–7 reads within 4 h', best('week'), (r) => pct(r.weekWithinTarget), '≥ 99 %'],
    ['days 8–30 reads within 24 h', best('month'), (r) => pct(r.monthWithinTarget), '≥ 99 %'],
    ...(steady.some((r) => r.shopper)
      ? ([
          ["read-weighted: today's reads within 15 min ⁴", '', (r) => share(r.shopper?.weighted.today.share), ''],
          ['read-weighted: days 1–7 reads within 4 h ⁴', '', (r) => share(r.shopper?.weighted.week.share), ''],
          ['read-weighted: days 8–30 reads within 24 h ⁴', '', (r) => share(r.shopper?.weighted.month.share), ''],
          ['bookable accuracy: every slot bookable for 2 and priced as the partner ⁴', '', (r) => share(r.shopper?.bookable.accuracy), '≥ 99.5 %'],
        ] satisfies [string, string, (r: SimResult) => string, string][])
      : []),
    ['days 31–59: mean age / oldest (h)', '', (r) => `${r.farAvgAgeHours.toFixed(1)} / ${r.farMaxAgeHours.toFixed(1)}`, ''],
    ['closed/empty days re-checked within 24 h', '', (r) => pct(r.closedWithin24h), ''],
    ['accuracy: read equals the partner, whole day', `${pct(c.accuracyRef.budgetSpread.slots)} ¹`, (r) => pct(r.accuracySlots), '≥ 99 %'],
    ['accuracy: /dates entry (open, lowest price)', `${pct(c.accuracyRef.budgetSpread.dates)} ¹`, (r) => pct(r.accuracyDates), ''],
    ['budget use while work is due', '', (r) => `${pct(r.utilisationWhileDue)} (${pct(r.busyShare)} of the time)`, '≥ 97 %'],
    ['budget use overall', '', (r) => pct(r.utilisation), ''],
    ['requests', '', (r) => int(r.requests), ''],
    ['429s provoked', '', (r) => String(r.rateLimited), '0'],
    [`max arrivals in any 60 s at the partner (limit ${limit})`, '', (r) => String(r.maxArrivalsInAnyWindow), `≤ ${limit}`],
    ['DB row writes (slot + pax)', '', (r) => int(r.dbWrites), ''],
    ['pairs never fetched at the end', '', (r) => String(r.neverFetchedAtEnd), '0'],
  ]
  const body = rows.map(([label, best, f, target]) => `| ${label} | ${best} | ${steady.map(f).join(' | ')} | ${target} |`).join('\n')
  const lives = c.results
    .filter((r) => r.scenario === 'live' && r.live)
    .map((r) =>
      liveText(
        r,
        steady.find((x) => x.strategy === r.strategy),
      ),
    )
  const runs = c.results.filter((r) => r.scenario === 'run' && r.run)
  const runText = runs.map((r) => {
    const x = r.run!
    return `"Run now" of the whole horizon (${int(x.queuedAtStart)} pairs) at the start of a ${r.hours} h span, smart planner: today's reads within 15 min **${pct(r.todayWithinTarget)}** while it drains; ${int(x.drained)} drained (${int(x.drained / r.hours)}/h), ${int(x.leftAtEnd)} left; status estimated the finish at ${x.etaAtStart ?? '—'}; 429s ${r.rateLimited}, max arrivals in any 60 s ${r.maxArrivalsInAnyWindow}.`
  })
  return [
    `### Catalogue \`${c.shape}\``,
    '',
    ...(c.warmupHours !== undefined ? [`Warm-up: ${c.warmupHours} h of simulated time from the pre-filled state before the measured hours.`, ''] : []),
    `Requests a day each tier needs to be 100 % fresh (best-plan.ts), against the ${int(c.available)} the key allows (${int(c.usable)} usable with the production 1 s margin: 30 per 61 s), and the best any planner could do serving the tiers in order:`,
    '',
    '| tier | requests a day for 100 % | share of 43,200 | computed best freshness |',
    '|---|---:|---:|---:|',
    ...needRows,
    `| total | ${int(total)} | ${pct(total / c.available)} | |`,
    '',
    head,
    body,
    '',
    `¹ Accuracy has no closed-form best; the reference is an ideal schedule with no engine: every day refreshed at its tier's target × ${c.accuracyRef.spread.toFixed(2)} (the usable budget spread in proportion to need), reads at a uniform age over that interval. At exactly the tier targets it would be ${pct(c.accuracyRef.atTargets.slots)} (whole day) and ${pct(c.accuracyRef.atTargets.dates)} (/dates entry). The catalogue books seats every 15 minutes on most open days, so a whole-day match within a 4 h or 24 h target is mostly luck: 99 % needs each day refreshed far more often than the key allows.`,
    '',
    `² The first figure serves the tiers in order from the day's sums (above). The second resolves the same order minute by minute over the measured window: at each sampled instant a tier can have at most as many fresh days as requests it could have had in its last target period, after the tiers before it took what they needed (today's open days ask for one request each 15 min to their last slot, all at once, from 15 min before midnight: a read of today at 00:05 is fresh only if its day was fetched after 23:50). It is an upper bound no planner beats; it is lower than the first wherever today's need is bunched in time.${
      c.bestInTimeFromMidnight
        ? ` Charging today only from midnight, as the first version of this bound did, gives a looser ${pct(c.bestInTimeFromMidnight.today)} / ${pct(c.bestInTimeFromMidnight.week)} / ${pct(c.bestInTimeFromMidnight.month)} (today / days 1–7 / days 8–30).`
        : ''
    }`,
    ...(afterWeek !== undefined
      ? [
          '',
          `³ Days 8–30 with days 1–7 at their minute-by-minute bound first: for each instant, the fewest requests days 1–7 must have had in the day before it to be at their bound at every instant of that day (each of their fresh days needs a request of its own within the last 4 h; every shortfall filled at the latest minutes the key had left), and what the rest of the day left after today. The second figure charges days 1–7 only their steady rate (one request per open day each 4 h) and the catch-up after a crunch, which is neither what it takes nor the least, so the two are not reachable together.`,
        ]
      : []),
    ...(steady.some((r) => r.shopper) ? ['', DEMAND_NOTE(steady.find((r) => r.shopper)!.shopper!)] : []),
    ...(lives.length ? ['', ...lives] : []),
    ...(runText.length ? ['', ...runText] : []),
    ...steady
      .filter((r) => r.hourly?.length)
      .flatMap((r) => [
        '',
        `Hour by hour, ${r.strategy} (the last ${HOURLY_WARMUP_SHOWN} h of the warm-up, then the measured hours): sampled freshness, the minute-by-minute bound for days 1–7, and requests by what they were for (today open / closed, day 1, days 2–7, day 8, days 9–30, days 31–59, closed days 1–59):`,
        '',
        formatHourly(r.hourly!.filter((h) => h.hour >= -HOURLY_WARMUP_SHOWN)),
      ]),
    ...steady
      .filter((r) => r.days?.length)
      .flatMap((r) => ['', `Day by day, ${r.strategy}, each beside the minute-by-minute bound of that day:`, '', formatDays(r.days!)]),
  ].join('\n')
}

export function formatSimReport(j: SimReport): string {
  const steady = j.catalogues.flatMap((c) => c.results.filter((r) => r.scenario === 'steady'))
  const hours = steady[0]?.hours ?? 0
  return [
    `${j.products} products, ${j.limit} requests/min, partner latency ${j.latency} ms, production settings (1 s margin, 8 in flight); ${j.catalogues.every((c) => c.warmupHours !== undefined) ? 'a warm-up from a pre-filled steady state (per catalogue, below)' : `${j.warmupHours} h warm-up from a pre-filled steady state`}, then ${hours} h measured (from the calendar day ${j.day ?? '2026-12-01'}, Asia/Singapore; each product's tiers and today in its own zone); run ${j.date}, ${Math.round(j.catalogues.flatMap((c) => c.results).reduce((n, r) => n + r.realSeconds, 0))} s real time. Reads are sampled every 5 simulated minutes; accuracy samples 40 reads each time (15 % today, 40 % days 1–7, 35 % days 8–30, 10 % days 31–59) and compares the stored day with what the catalogue answers at that instant.`,
    '',
    ...j.catalogues.map((c) => `${catalogueSection(c, j.limit)}\n`),
  ].join('\n')
}

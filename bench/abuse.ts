/**
 * Does one client's heavy request hurt everyone else? The compiled service
 * with 450 products against a 0.3–4 s partner (production settings), a
 * shopper reading /slots throughout, and in the middle phase four clients
 * each keeping a maximal tRPC batch of `sync.status` in flight (issue 25's
 * amplification). Each client sends from a new address on every batch
 * (X-Forwarded-For through TRUST_PROXY), so the per-client allowance never
 * stops them: what holds is the single flight behind the batch, and the
 * engine's own connections.
 *
 *   npm run bench:abuse -- [--phase-s 45] [--warmup-s 60] [--batch 50] [--clients 4]
 *                          [--node-arg=<flag> ...] [--env NAME=value ...] [--node-defaults]
 *                          [--no-build --entry <another build's main.js>]
 *
 * The service runs with the start script's node flags and environment
 * defaults (as `npm start`), or node's own with --node-defaults.
 *
 * Prints, for the quiet and the abusive phase: the shopper's /slots p50, p95
 * and p99, answers other than 200, batches completed, the partner
 * requests the engine sent a minute (its budget is 30), and the service's CPU
 * time (per batch: the cost of a setting, on a machine whose other load
 * moves the wall-clock figures).
 */
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import { startService } from './service-process.ts'

const { values: args } = parseArgs({
  options: {
    'phase-s': { type: 'string', default: '45' },
    'warmup-s': { type: 'string', default: '60' },
    batch: { type: 'string', default: '50' },
    clients: { type: 'string', default: '4' },
    products: { type: 'string', default: '448' },
    'no-build': { type: 'boolean', default: false },
    entry: { type: 'string', default: 'dist/main.js' },
    'node-arg': { type: 'string', multiple: true, default: [] },
    'node-defaults': { type: 'boolean', default: false },
    env: { type: 'string', multiple: true, default: [] },
  },
})
const PHASE_MS = Number(args['phase-s']) * 1000
const BATCH = Number(args.batch)
const CLIENTS = Number(args.clients)
const TZ = 'Asia/Singapore'
const log = (line: string) => process.stderr.write(`[abuse] ${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

let addressSeq = 0
/** A documentation-range address (RFC 5737) per request: every one a new client to the rate limit. */
const nextAddress = () => {
  const n = addressSeq++
  return `198.51.${(n >> 8) & 255}.${n & 255}`
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

async function partnerRequests(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text()
  let sum = 0
  for (const line of text.split('\n')) if (line.startsWith('slotsync_partner_requests_total')) sum += Number(line.split(' ').pop())
  return sum
}

/** The service's CPU time so far (user + system, /proc/<pid>/stat), in seconds: work done, whatever else shares the cores. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

interface PhaseResult {
  phase: string
  /** CPU seconds the service spent in the phase (Linux USER_HZ 100). */
  serviceCpuS: number
  slotsReads: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  notOk: number
  batches: number
  batchesNotOk: number
  partnerPerMinute: number
}

async function phase(base: string, pid: number, name: string, abusive: boolean): Promise<PhaseResult> {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date())
  const endAt = Date.now() + PHASE_MS
  const latencies: number[] = []
  let notOk = 0
  let batches = 0
  let batchesNotOk = 0
  const shopper = '203.0.113.7'
  const before = await partnerRequests(base)
  const cpu0 = cpuSeconds(pid)
  const t0 = Date.now()
  const shopping = (async () => {
    for (let i = 0; Date.now() < endAt; i++) {
      const t = performance.now()
      const r = await fetch(`${base}/api/v1/experience/${i % 2 ? 14 : 15}/slots?date=${today}`, { headers: { 'x-forwarded-for': shopper } })
      await r.arrayBuffer()
      latencies.push(performance.now() - t)
      if (r.status !== 200) notOk++
      await sleep(50)
    }
  })()
  const url = `${base}/trpc/${Array(BATCH).fill('sync.status').join(',')}?batch=1`
  const abusers = abusive
    ? Array.from({ length: CLIENTS }, async () => {
        while (Date.now() < endAt) {
          const r = await fetch(url, { headers: { 'x-forwarded-for': nextAddress() } })
          await r.arrayBuffer()
          batches++
          if (r.status !== 200) batchesNotOk++
        }
      })
    : []
  await Promise.all([shopping, ...abusers])
  const serviceCpuS = cpuSeconds(pid) - cpu0
  const minutes = (Date.now() - t0) / 60_000
  const partnerPerMinute = ((await partnerRequests(base)) - before) / minutes
  latencies.sort((a, b) => a - b)
  return {
    phase: name,
    serviceCpuS,
    slotsReads: latencies.length,
    p50Ms: quantile(latencies, 0.5),
    p95Ms: quantile(latencies, 0.95),
    p99Ms: quantile(latencies, 0.99),
    notOk,
    batches,
    batchesNotOk,
    partnerPerMinute,
  }
}

async function main() {
  const svc = await startService({
    env: {
      SANDBOX_PRODUCTS: args.products!,
      SANDBOX_LATENCY_MS: '300-4000',
      LOG_LEVEL: 'warn',
      ADMIN_TOKEN: 'abuse-admin-token',
      TRUST_PROXY: 'true',
      ...Object.fromEntries(args.env!.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    },
    nodeArgs: args['node-arg'],
    nodeDefaults: args['node-defaults'],
    logFile: `bench/out/abuse-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.log`,
    entry: args.entry,
    build: !args['no-build'],
    log,
  })
  try {
    log(`warming up ${args['warmup-s']} s (the engine fetching at its pace)`)
    await sleep(Number(args['warmup-s']) * 1000)
    const results = [
      await phase(svc.base, svc.pid, 'quiet', false),
      await phase(svc.base, svc.pid, `${CLIENTS} x batch of ${BATCH}`, true),
      await phase(svc.base, svc.pid, 'after', false),
    ]
    const f = (v: number) => v.toFixed(1)
    for (const r of results)
      log(
        `${r.phase.padEnd(18)} /slots ${r.slotsReads} reads p50 ${f(r.p50Ms)} ms, p95 ${f(r.p95Ms)} ms, p99 ${f(r.p99Ms)} ms, ${r.notOk} not 200; batches ${r.batches} (${r.batchesNotOk} not 200); partner ${f(r.partnerPerMinute)}/min; service CPU ${f(r.serviceCpuS)} s${r.batches ? ` (${f((r.serviceCpuS * 1000) / r.batches)} ms a batch)` : ''}`,
      )
    process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), batch: BATCH, clients: CLIENTS, phaseS: PHASE_MS / 1000, results }, null, 2)}\n`)
  } finally {
    const code = await svc.stop()
    if (code !== 0) process.exitCode = 1
  }
}

main().catch((err) => {
  process.stderr.write(`[abuse] ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})

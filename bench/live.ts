/**
 * Live checks in real time (issue 27, "Live check"): the compiled service as
 * `npm start` runs it, against a partner sandbox run here (so its counts are
 * read directly) with the dense catalogue, a 30/min key and 0.3–4 s answers.
 * Shoppers ask `/slots?maxAge=` for a random (product, day) of the horizon
 * at a stated rate (Poisson arrivals, fixed seed) for a stated time, each
 * phase in turn; the service syncs as usual meanwhile.
 *
 *   npm run bench:live -- [--rates 60,240] [--minutes 10] [--products 450] [--max-age 60] [--warmup-s 60]
 *
 * Reports per phase: the share answered with a day fetched within its max
 * age, p50/p95 latency, refusals and failures; and over the run the 429s the
 * sandbox served and the most partner requests that arrived in any 60 s.
 */
import { seededRandom } from '../server/sandbox/rng.ts'
import { parseArgs } from 'node:util'
import { addDays, localDate } from '../server/calendar/days.ts'
import { startSandbox } from '../server/sandbox/server.ts'
import { startService } from './service-process.ts'

const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '60,240' },
    minutes: { type: 'string', default: '10' },
    products: { type: 'string', default: '450' },
    'max-age': { type: 'string', default: '60' },
    'warmup-s': { type: 'string', default: '60' },
    seed: { type: 'string', default: '7' },
  },
})
const RATES = args.rates!.split(',').map(Number)
const MINUTES = Number(args.minutes)
const PRODUCTS = Number(args.products)
const MAX_AGE_S = Number(args['max-age'])
const TZ = 'Asia/Singapore'
const LIMIT = 30
const ADMIN_TOKEN = 'bench-live-admin'

const quantile = (xs: number[], q: number) => {
  if (!xs.length) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

type Check = { ms: number; fresh: boolean; live?: string; status: number }

async function main() {
  const sandbox = await startSandbox({
    products: PRODUCTS - 2,
    rateLimitPerMinute: LIMIT,
    timeZone: TZ,
    latency: { minMs: 300, maxMs: 4_000 },
    shape: 'dense',
  })
  const ids = sandbox.catalogue.productIds()
  const svc = await startService({
    env: {
      PARTNER_BASE_URL: sandbox.url,
      PARTNER_API_KEY: sandbox.apiKey,
      PARTNER_RATE_LIMIT_PER_MINUTE: String(LIMIT),
      SYNC_PRODUCT_IDS: ids.join(','),
      SYNC_TIMEZONE: TZ,
      // One address sends every check here: its allowance is not what is measured.
      LIVE_CHECKS_PER_MINUTE: '100000',
      API_RATE_LIMIT_PER_MINUTE: '1000000',
      LOG_LEVEL: 'warn',
      ADMIN_TOKEN,
    },
    logFile: '/tmp/slotsync-bench-live.log',
    log: (l) => console.error(l),
  })
  const out: Record<string, unknown>[] = []
  try {
    console.error(`service up at ${svc.base}; warming up ${args['warmup-s']} s`)
    await sleep(Number(args['warmup-s']) * 1000)
    sandbox.resetStats()
    const t0 = Date.now()
    const random = seededRandom(Number(args.seed))
    for (const perHour of RATES) {
      const checks: Check[] = []
      const pending: Promise<void>[] = []
      const end = Date.now() + MINUTES * 60_000
      // Poisson arrivals: exponential gaps of mean 3600/rate seconds.
      let at = Date.now() - Math.log(1 - random()) * (3_600_000 / perHour)
      while (at < end) {
        await sleep(Math.max(0, at - Date.now()))
        const productId = ids[Math.floor(random() * ids.length)]!
        const date = addDays(localDate(Date.now(), TZ), Math.floor(random() * 60))
        pending.push(
          (async () => {
            const sent = Date.now()
            const res = await fetch(`${svc.base}/api/v1/experience/${productId}/slots?date=${date}&maxAge=${MAX_AGE_S}`)
            const body = (await res.json()) as { freshness?: { fetchedAt: string | null; live?: string } }
            const done = Date.now()
            const f = body.freshness
            const fresh = res.ok && !!f?.fetchedAt && done - Date.parse(f.fetchedAt) <= MAX_AGE_S * 1000 && !f.live
            checks.push({ ms: done - sent, fresh, live: f?.live, status: res.status })
          })(),
        )
        at += -Math.log(1 - random()) * (3_600_000 / perHour)
      }
      await Promise.all(pending)
      const ms = checks.map((c) => c.ms)
      const phase = {
        perHour,
        minutes: MINUTES,
        checks: checks.length,
        fresh: checks.filter((c) => c.fresh).length,
        freshShare: checks.length ? checks.filter((c) => c.fresh).length / checks.length : Number.NaN,
        refused: checks.filter((c) => c.live === 'refused').length,
        failed: checks.filter((c) => c.live === 'failed' || c.status !== 200).length,
        p50ms: quantile(ms, 0.5),
        p95ms: quantile(ms, 0.95),
        maxMs: Math.max(...ms),
      }
      out.push(phase)
      console.error(JSON.stringify(phase))
    }
    const s = sandbox.stats()
    const status = (await (await fetch(`${svc.base}/api/v1/sync/status`)).json()) as { tiers: Record<string, { total: number; fresh: number }> }
    const summary = {
      catalogue: `dense, ${PRODUCTS} products`,
      partnerLatencyMs: '300-4000',
      limitPerMinute: LIMIT,
      maxAgeS: MAX_AGE_S,
      runMinutes: Math.round((Date.now() - t0) / 60_000),
      partnerRequests: s.requests,
      sandbox429: s.rateLimited,
      maxArrivalsInAny60s: s.maxArrivalsInAnyWindow,
      maxAcceptedInAny60s: s.maxInAnyWindow,
      tiersFreshAtEnd: Object.fromEntries(Object.entries(status.tiers).map(([k, v]) => [k, `${v.fresh}/${v.total}`])),
      phases: out,
    }
    console.log(JSON.stringify(summary, null, 2))
  } finally {
    await svc.stop()
    await sandbox.close()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

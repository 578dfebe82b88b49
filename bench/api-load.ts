/**
 * The load generator of bench/api.ts, in a process of its own so it never
 * shares the server's event loop: autocannon with a fresh request per call,
 * its path (and body) drawn from the key list, uniformly or Zipf-like.
 *
 * Spawned by bench/api.ts with one JSON argument (LoadJob); answers with one
 * IPC message (LoadResult). Also runnable by hand:
 *   node --import tsx bench/api-load.ts '{"url":"http://127.0.0.1:3000","keysFile":"keys.json",...}'
 */
import fs from 'node:fs'
import autocannon from 'autocannon'
import { seededRandom } from '../server/sandbox/rng.ts'

export type Distribution = 'uniform' | 'zipf'

export interface LoadKey {
  path: string
  body?: string
}

export interface LoadJob {
  url: string
  /** A JSON file holding LoadKey[]. */
  keysFile: string
  distribution: Distribution
  /** Zipf exponent: key of rank r is drawn with weight 1 / r^s. */
  zipfS: number
  connections: number
  seconds: number
  warmupSeconds: number
  method: 'GET' | 'POST'
  headers: Record<string, string>
  /** Same seed, same order of keys: every server of a run gets the same hot set. */
  seed: number
}

export interface LoadResult {
  reqPerSec: number
  p50Ms: number
  p99Ms: number
  requests: number
  errors: number
  non2xx: number
  timeouts: number
  /** How many distinct keys the measured run could draw from (the key list's length). */
  keys: number
  /** Share of draws that fell on the hottest 1% of keys (1% for uniform). */
  hot1pct: number
  /** CPU the generator itself used in the measured run (user + system, ms): its share of the 2 cores. */
  cpuMs: number
}

/** Returns a function drawing key indexes; for Zipf the ranks are a seeded shuffle, so hot keys are spread over products and days. */
export function keyPicker(n: number, distribution: Distribution, s: number, seed: number): () => number {
  const random = seededRandom(seed)
  const draw = seededRandom(seed ^ 0x5bd1e995)
  if (distribution === 'uniform') return () => Math.floor(draw() * n)
  const order = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const cdf = new Float64Array(n)
  let total = 0
  for (let r = 0; r < n; r++) cdf[r] = total += 1 / (r + 1) ** s
  return () => {
    const x = draw() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! < x) lo = mid + 1
      else hi = mid
    }
    return order[lo]!
  }
}

function hotShare(n: number, distribution: Distribution, s: number): number {
  if (distribution === 'uniform') return 0.01
  let all = 0
  let hot = 0
  const top = Math.max(1, Math.floor(n / 100))
  for (let r = 0; r < n; r++) {
    const w = 1 / (r + 1) ** s
    all += w
    if (r < top) hot += w
  }
  return hot / all
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const keys = JSON.parse(fs.readFileSync(job.keysFile, 'utf8')) as LoadKey[]
  const pick = keyPicker(keys.length, job.distribution, job.zipfS, job.seed)
  const requests = [
    {
      method: job.method,
      setupRequest: (req: Record<string, unknown>) => {
        const k = keys[pick()]!
        return { ...req, path: k.path, ...(k.body === undefined ? {} : { body: k.body }) }
      },
    },
  ]
  const opts = { url: job.url, connections: job.connections, headers: job.headers, requests }
  // Warm-up: JIT, pools, prepared statements. Not counted.
  if (job.warmupSeconds > 0) await autocannon({ ...opts, duration: job.warmupSeconds })
  const cpu0 = process.cpuUsage()
  const r = await autocannon({ ...opts, duration: job.seconds })
  const cpu = process.cpuUsage(cpu0)
  return {
    reqPerSec: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors,
    non2xx: r.non2xx,
    timeouts: r.timeouts,
    keys: keys.length,
    hot1pct: Math.round(hotShare(keys.length, job.distribution, job.zipfS) * 100) / 100,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  }
}

if (process.argv[2]) {
  const result = await runLoad(JSON.parse(process.argv[2]) as LoadJob)
  if (process.send) process.send(result)
  else console.log(JSON.stringify(result))
}

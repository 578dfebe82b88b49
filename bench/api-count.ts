/**
 * What counting reads costs a /slots read (issue 27: < 2 % of its time),
 * measured in bench:api's run, on its database and keys.
 *
 * A /slots read's time: the API process's CPU per read (user + system;
 * Postgres runs apart), reads one at a time through `inject`, keys drawn
 * Zipf-like over every (product, day) (the hot ones spread by a seeded
 * shuffle), read cache on (the cheapest read, so the largest share) and off.
 * Counting's cost, two ways:
 *
 * - direct: `record()` timed over the same key sequence (ns per read),
 *   plus the flush's own CPU in this process spread over the reads it
 *   carried (one flush per pass, so far fewer reads per flush than a
 *   minute of traffic: an upper bound);
 * - A/B: the same reads through an API with the counter and one without,
 *   taking turns every 250 reads, median over passes: a check of the
 *   direct figure, within the noise of a shared machine.
 */
import type { FastifyInstance } from 'fastify'
import { systemClock } from '../server/clock.ts'
import type { Database } from '../server/db/client.ts'
import { createReadCounter } from '../server/sync/demand.ts'
import { apiServer } from './api-setup.ts'

export interface CountingCost {
  cacheMs: number
  reads: number
  /** CPU µs per /slots read without counting (median of passes). */
  readUs: number
  /** Same with counting. */
  readCountedUs: number
  /** record() ns per read, and the flush's CPU per read it carried. */
  recordNs: number
  flushNsPerRead: number
  /** (record + flush share) ÷ read: the figure the target is on. */
  directShare: number
  /** (with − without) ÷ without. */
  abShare: number
}

/** Seeded Zipf draw of `count` indexes out of `n` (rank r has weight 1 / r^s), ranks shuffled so hot keys are spread. */
function zipfSequence(n: number, count: number, s: number, seed: number): number[] {
  let x = seed >>> 0
  const rnd = () => {
    x = (x + 0x6d2b79f5) >>> 0
    let t = x
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const order = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const cdf = new Float64Array(n)
  let sum = 0
  for (let r = 0; r < n; r++) cdf[r] = sum += 1 / (r + 1) ** s
  return Array.from({ length: count }, () => {
    const u = rnd() * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return order[lo]!
  })
}

/** Reads per turn of the A/B: short enough that load drifts little within one, long enough that reading the CPU clock costs nothing. */
const BLOCK = 250
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const cpuUs = (c: NodeJS.CpuUsage) => c.user + c.system

export async function measureCountingCost(o: {
  db: Database
  url: string
  /** Every /slots key: product and day. */
  keys: { productId: number; date: string }[]
  cacheMs: number
  reads?: number
  passes?: number
  zipfS?: number
}): Promise<CountingCost> {
  const reads = o.reads ?? 20_000
  const passes = o.passes ?? 7
  const seq = zipfSequence(o.keys.length, reads, o.zipfS ?? 1, 42).map((i) => o.keys[i]!)
  const urls = seq.map((k) => `/api/v1/experience/${k.productId}/slots?date=${k.date}`)
  // The counters flush into this run's database, as production's would.
  const counter = createReadCounter({ db: o.db.prisma, clock: systemClock })
  const counted = await apiServer(o.db, o.url, o.cacheMs, counter)
  const plain = await apiServer(o.db, o.url, o.cacheMs)
  try {
    const read = async (app: FastifyInstance, from: number, to: number) => {
      const c0 = process.cpuUsage()
      for (let i = from; i < to; i++) {
        const r = await app.inject({ method: 'GET', url: urls[i]! })
        if (r.statusCode !== 200) throw new Error(`${urls[i]}: ${r.statusCode}`)
      }
      return cpuUs(process.cpuUsage(c0))
    }
    // Warm-up: JIT, WebAssembly tier-up, the cache filled.
    await read(plain, 0, reads)
    await read(counted, 0, reads)
    await counter.flush()
    const on: number[] = []
    const off: number[] = []
    for (let i = 0; i < passes; i++) {
      // The two APIs take turns every BLOCK reads (the same reads), each first in turn, so a drift of the machine's load falls on both.
      let a = 0
      let b = 0
      for (let from = 0, k = 0; from < reads; from += BLOCK, k++) {
        const to = Math.min(reads, from + BLOCK)
        if ((i + k) % 2) {
          a += await read(counted, from, to)
          b += await read(plain, from, to)
        } else {
          b += await read(plain, from, to)
          a += await read(counted, from, to)
        }
      }
      on.push(a / reads)
      off.push(b / reads)
    }
    await counter.flush()

    // Direct: record() alone over the same sequence, then one flush of what it holds.
    const direct = createReadCounter({ db: o.db.prisma, clock: systemClock })
    const recordNs: number[] = []
    const flushNs: number[] = []
    for (let i = 0; i < passes; i++) {
      const t0 = process.hrtime.bigint()
      for (const k of seq) direct.record(k.productId, k.date)
      recordNs.push(Number(process.hrtime.bigint() - t0) / reads)
      const c0 = process.cpuUsage()
      await direct.flush()
      flushNs.push((cpuUs(process.cpuUsage(c0)) * 1000) / reads)
    }
    const readUs = median(off)
    const readCountedUs = median(on)
    const rec = median(recordNs)
    const fl = median(flushNs)
    return {
      cacheMs: o.cacheMs,
      reads,
      readUs: round(readUs, 1),
      readCountedUs: round(readCountedUs, 1),
      recordNs: round(rec, 0),
      flushNsPerRead: round(fl, 0),
      directShare: round((rec + fl) / 1000 / readUs, 5),
      abShare: round((readCountedUs - readUs) / readUs, 4),
    }
  } finally {
    await counted.close()
    await plain.close()
  }
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits

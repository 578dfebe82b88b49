/**
 * How fast one partner day is written to Postgres, three ways, in one run:
 *   - naive:    a query per slot and per pax type (upserts), in a transaction: the baseline
 *   - snapshot: the service's writer (server/sync/snapshot.ts): set-based unnest upserts
 *   - copy:     COPY FROM STDIN into temp tables, then one set-based merge: the ceiling
 * for days of 10, 100 and 1,000 slots (3 pax types each), each written as a
 * new day, re-written with every count changed, and re-written unchanged.
 *
 *   npm run bench:ingest -- [--reps 1] [--quick] [--out bench/out/ingest.json]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { addDays } from '../server/calendar/days.ts'
import { ensureDatabase, startEmbeddedPostgres } from '../server/db/embedded-postgres.ts'
import { createDatabase, type Database } from '../server/db/client.ts'
import { applyMigrations } from '../server/db/migrate.ts'
import { validateDay, type PartnerSlot, type PartnerSlotInput } from '../server/partner/schema.ts'
import { toColumns } from '../server/sync/mapping.ts'
import { writeDaySnapshot } from '../server/sync/snapshot.ts'
import { copyDay, naiveDay } from './ingest-writers.ts'

export const SIZES = [10, 100, 1_000] as const
export const SCENARIOS = ['new day', 'every count changed', 'unchanged'] as const
export const METHODS = ['naive', 'snapshot', 'copy'] as const
type Scenario = (typeof SCENARIOS)[number]
type Method = (typeof METHODS)[number]

export interface IngestResult {
  scenario: Scenario
  slots: number
  paxPerSlot: number
  method: Method
  reps: number
  medianMs: number
  p90Ms: number
  /** naive median / this median: how many times faster than the baseline. */
  speedup: number
}

const PAX = [
  { type: 'ADULT_12~99', name: 'Adult', description: '12 years and above', isPrimary: true, price: 242.14 },
  { type: 'CHILD_3~11', name: 'Child', description: '3 to 11 years', price: 180.5 },
  { type: 'INFANT_0~2', name: 'Infant', description: 'under 3', price: 0 },
]

/** A partner answer of `n` slots, one a minute from 00:00; `version` moves every count. */
export function makeDay(productId: number, date: string, n: number, version: number): PartnerSlot[] {
  const raw: PartnerSlotInput[] = Array.from({ length: n }, (_, i) => {
    const hhmm = `${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`
    return {
      startDate: date,
      startTime: hhmm,
      endTime: hhmm,
      providerSlotId: `B${productId}_${date}T${hhmm}`,
      remaining: 2000 - version,
      currencyCode: 'SGD',
      variantId: productId,
      paxAvailability: PAX.map((p) => ({
        type: p.type,
        name: p.name,
        description: p.description,
        ...(p.isPrimary ? { isPrimary: true } : {}),
        min: 0,
        max: 1000,
        remaining: 1000 - version,
        price: { discount: 0, finalPrice: p.price, originalPrice: p.price, currencyCode: 'SGD' },
      })),
    }
  })
  const v = validateDay(raw, date)
  if (!v.ok) throw new Error(v.reason)
  return v.slots
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))]!

/** Repetitions per size: enough for a stable median, bounded by the naive writer's cost at 1,000 slots. */
function repsFor(slots: number, scale: number): number {
  const base = slots <= 10 ? 200 : slots <= 100 ? 60 : 12
  return Math.max(3, Math.round(base * scale))
}

async function run(db: Database, pool: pg.Pool, scale: number): Promise<IngestResult[]> {
  // Each method writes its own product, so all three see tables of the same size.
  const productOf: Record<Method, number> = { naive: 1, snapshot: 2, copy: 3 }
  await pool.query(`INSERT INTO product (id, time_zone) VALUES (1, 'Asia/Singapore'), (2, 'Asia/Singapore'), (3, 'Asia/Singapore')`)
  let clock = Date.parse('2026-12-01T00:00:00Z')
  let freshDay = 0
  const write = async (method: Method, date: string, slots: PartnerSlot[]) => {
    clock += 1_000
    const snap = { productId: productOf[method], date, slots, fetchedAt: new Date(clock) }
    if (method === 'snapshot') return void (await writeDaySnapshot(db.prisma, snap))
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await (method === 'naive' ? naiveDay(client, snap) : copyDay(client, snap, toColumns(slots)))
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release()
    }
  }

  const results: IngestResult[] = []
  for (const n of SIZES) {
    const reps = repsFor(n, scale)
    for (const scenario of SCENARIOS) {
      const times: Record<Method, number[]> = { naive: [], snapshot: [], copy: [] }
      // The day re-written in place, stored once before timing starts.
      const sameDate = addDays('2027-01-01', SIZES.indexOf(n) * 10 + SCENARIOS.indexOf(scenario))
      for (const m of METHODS) await write(m, sameDate, makeDay(productOf[m], sameDate, n, 0))
      const warmup = Math.max(2, Math.round(reps / 10))
      for (let rep = -warmup; rep < reps; rep++) {
        const date = scenario === 'new day' ? addDays('2030-01-01', freshDay++) : sameDate
        const version = scenario === 'every count changed' ? (rep + warmup + 1) % 500 : 0
        // Interleaved, so drift (autovacuum, checkpoints, CPU frequency) hits every method alike.
        for (const m of METHODS) {
          const slots = makeDay(productOf[m], date, n, version)
          const t0 = performance.now()
          await write(m, date, slots)
          if (rep >= 0) times[m].push(performance.now() - t0)
        }
      }
      const base = median(times.naive)
      for (const m of METHODS) {
        const med = median(times[m])
        results.push({ scenario, slots: n, paxPerSlot: PAX.length, method: m, reps, medianMs: med, p90Ms: p90(times[m]), speedup: base / med })
      }
      process.stderr.write(`[ingest] ${n} slots, ${scenario}: ${METHODS.map((m) => `${m} ${median(times[m]).toFixed(2)} ms`).join(', ')}\n`)
    }
  }
  // The three writers must have stored the same thing, or the comparison means nothing.
  const { rows } = await pool.query(
    `SELECT s.product_id, count(DISTINCT s.id)::int AS slots, count(p.id)::int AS pax, sum(p.remaining)::bigint AS pax_left, sum(p.final_price)::text AS money,
            (SELECT sum(x.price_final)::text FROM slot x WHERE x.product_id = s.product_id) AS slot_prices, count(DISTINCT s.primary_pax_type)::int AS primaries,
            (SELECT json_agg(json_build_object('open', d.open, 'low', d.lowest_final_price, 'n', d.slot_count, 'left', d.total_remaining) ORDER BY d.date)
             FROM day_summary d WHERE d.product_id = s.product_id)::text AS summaries,
            -- Slot ids carry their writer's product (B<id>_…), the one intended difference.
            (SELECT string_agg(md5(replace(v.body, '"B' || v.product_id || '_', '"B_')), ',' ORDER BY v.date)
             FROM day_slots_json v WHERE v.product_id = s.product_id) AS slot_texts
     FROM slot s LEFT JOIN pax_availability p ON p.slot_id = s.id GROUP BY 1 ORDER BY 1`,
  )
  const shapes = new Set(rows.map((r) => JSON.stringify({ ...r, product_id: undefined })))
  if (rows.length !== 3 || shapes.size !== 1) {
    const differ = Object.keys(rows[0] ?? {}).filter((k) => k !== 'product_id' && new Set(rows.map((r) => JSON.stringify(r[k]))).size > 1)
    throw new Error(`the writers stored different data (${rows.length} writers; differing: ${differ.join(', ') || 'row count'})`)
  }
  return results
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1))

/** One row per (size, scenario): median ms per day for each method, and × faster than naive. */
export function formatIngestTable(results: IngestResult[]): string {
  const head = '| slots (×3 pax) | write | naive (baseline) | snapshot writer | COPY + merge (ceiling) |\n|---:|---|---:|---:|---:|'
  const rows: string[] = []
  for (const n of SIZES) {
    for (const s of SCENARIOS) {
      const r = (m: Method) => results.find((x) => x.slots === n && x.scenario === s && x.method === m)
      const cell = (m: Method) => {
        const x = r(m)
        return x ? `${ms(x.medianMs)} ms${m === 'naive' ? '' : ` (${x.speedup.toFixed(1)}×)`}` : '–'
      }
      rows.push(`| ${n.toLocaleString('en')} | ${s} | ${cell('naive')} | ${cell('snapshot')} | ${cell('copy')} |`)
    }
  }
  return `${head}\n${rows.join('\n')}`
}

async function main() {
  const { values: args } = parseArgs({
    options: {
      reps: { type: 'string', default: '1' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/out/ingest.json' },
    },
  })
  const scale = Number(args.reps) * (args.quick ? 0.25 : 1)
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-ingest-'))
  const cluster = await startEmbeddedPostgres({ dataDir })
  let results: IngestResult[]
  try {
    await ensureDatabase(cluster.url, 'bench_ingest')
    await applyMigrations(cluster.urlFor('bench_ingest'))
    // One connection per side, used one write at a time, so the three are on
    // equal terms: the baselines talk pg directly on theirs (COPY has no
    // Prisma API), the snapshot writer goes through Prisma Client on its
    // own, as in the service.
    const db = createDatabase(cluster.urlFor('bench_ingest'), { max: 1 })
    const pool = new pg.Pool({ connectionString: cluster.urlFor('bench_ingest'), max: 1 })
    try {
      results = await run(db, pool, scale)
    } finally {
      await db.close()
      await pool.end()
    }
  } finally {
    await cluster.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
  fs.mkdirSync(path.dirname(args.out!), { recursive: true })
  fs.writeFileSync(args.out!, `${JSON.stringify({ date: new Date().toISOString(), cores: os.cpus().length, scale, results }, null, 2)}\n`)
  process.stdout.write(`\nIngest: median ms to write one day (× = times faster than naive), ${os.cpus().length} cores\n\n${formatIngestTable(results)}\n`)
}

if (import.meta.url === `file://${process.argv[1]}`) await main()

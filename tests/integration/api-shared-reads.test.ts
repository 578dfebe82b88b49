import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Fastify from 'fastify'
import type { SyncService } from '../../server/api/services.ts'
import { shareExpensiveReads } from '../../server/api/shared-read.ts'
import { manualClock } from '../../server/clock.ts'
import type { PrismaClient } from '../../server/db/client.ts'
import { createMetrics } from '../../server/observability/metrics.ts'
import { observabilityRoutes } from '../../server/observability/routes.ts'
import { createSyncReads } from '../../server/observability/sync-reads.ts'
import { createSync } from '../../server/sync/index.ts'
import { ADMIN_TOKEN, createTestApi, seedDay, type TestApi } from '../helpers/api.ts'
import { countingReads } from '../helpers/counting-reads.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { rawSlot } from '../helpers/partner-data.ts'
import { captureLogger, TZ } from '../helpers/sync.ts'

// The expensive shared reads on a real database with the real sync status:
// a maximal batch, or four at once, costs one read per interval, and public
// reads keep answering beside them.
const NOW = Date.parse('2026-12-01T02:00:00Z')
const PRODUCTS = Array.from({ length: 50 }, (_, i) => i + 1)

let db: TestDatabase
let api: TestApi
let statusLoads = 0
let freshnessQueries: string[]
beforeAll(async () => {
  db = await createTestDatabase()
  await db.prisma.product.createMany({ data: PRODUCTS.map((id) => ({ id, timeZone: TZ })) })
  const clock = manualClock(NOW)
  const sync = createSync({
    db,
    clock,
    logger: captureLogger().logger,
    partner: { baseUrl: 'http://127.0.0.1:9', apiKey: '', sandbox: false },
    limitPerMinute: 30,
    timeZone: TZ,
  })
  // Every product's 60 days exist, as after a first pass: status counts them all.
  await sync.control.run({})
  const counted: SyncService = {
    ...sync.control,
    status: () => {
      statusLoads++
      return sync.control.status()
    },
  }
  const reads = countingReads(db.prisma)
  freshnessQueries = reads.queries
  const syncReads = createSyncReads({ prisma: reads.prisma as unknown as PrismaClient, clock })
  api = await createTestApi({ db, now: NOW, sync: counted, syncReads, sharedReadTtlMs: 1000 })
  await api.listen()
  await seedDay(db, 1, '2026-12-03', [rawSlot('2026-12-03', '10:00')], new Date(NOW))
})
afterAll(async () => {
  await api?.close()
  await db?.drop()
})

const maximal = (path: string) => `${api.url}/trpc/${Array(50).fill(path).join(',')}?batch=1`

const status = async () => (await (await fetch(`${api.url}/api/v1/sync/status`)).json()) as { paused: boolean }

describe('shared reads', () => {
  it('a maximal batch of sync.status or sync.freshness costs one read, and every procedure gets the same answer', async () => {
    statusLoads = 0
    const res = await fetch(maximal('sync.status'))
    expect(res.status).toBe(200)
    const answers = (await res.json()) as { result: { data: { json: { products: unknown } } } }[]
    expect(answers).toHaveLength(50)
    expect(new Set(answers.map((a) => JSON.stringify(a.result.data))).size).toBe(1)
    expect(answers[0]!.result.data.json.products).toEqual({ active: 50, paused: 0 })
    expect(statusLoads).toBe(1)

    freshnessQueries.length = 0
    expect((await fetch(maximal('sync.freshness'))).status).toBe(200)
    expect(freshnessQueries.length).toBe(1)
  })

  it('concurrent /metrics scrapes share one status read per interval', async () => {
    const app = Fastify({ logger: false })
    let reads = 0
    const counted = {
      ...api.services.sync,
      status: () => {
        reads++
        return api.services.sync.status()
      },
    }
    // As server.ts wires it: the gauges read the API's shared status.
    const shared = shareExpensiveReads({ ...api.services, sync: counted }, 1000)
    const metrics = createMetrics({ processDefaults: false, syncStatus: () => shared.sync.status() })
    await app.register(observabilityRoutes, { metrics })
    try {
      const scrapes = await Promise.all(Array.from({ length: 20 }, () => app.inject({ url: '/metrics' })))
      expect(scrapes.every((r) => r.statusCode === 200 && r.body.includes('slotsync_sync_status_up 1'))).toBe(true)
      expect((await app.inject({ url: '/metrics' })).statusCode).toBe(200)
      expect(reads).toBe(1)
    } finally {
      await app.close()
    }
  })

  it("this instance's own pause shows at once, within the shared interval", async () => {
    expect((await status()).paused).toBe(false)
    const paused = await fetch(`${api.url}/api/v1/sync/pause`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    expect(paused.status).toBe(200)
    expect((await status()).paused).toBe(true)
    await fetch(`${api.url}/api/v1/sync/resume`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    expect((await status()).paused).toBe(false)
  })

  it('four concurrent maximal batches of sync.status leave /slots answering', async () => {
    const slots = `${api.url}/api/v1/experience/1/slots?date=2026-12-03`
    const timed = async (ms: number) => {
      const out: { status: number; ms: number }[] = []
      for (const end = performance.now() + ms; performance.now() < end; ) {
        const t0 = performance.now()
        const r = await fetch(slots)
        await r.arrayBuffer()
        out.push({ status: r.status, ms: performance.now() - t0 })
      }
      return out
    }
    const p95 = (xs: { ms: number }[]) => xs.map((x) => x.ms).sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!
    const quiet = await timed(1_500)

    statusLoads = 0
    let batches = 0
    let running = true
    const batcher = async () => {
      while (running) {
        const r = await fetch(maximal('sync.status'))
        await r.arrayBuffer()
        expect(r.status).toBe(200)
        batches++
      }
    }
    const workers = Array.from({ length: 4 }, batcher)
    const loaded = await timed(3_000)
    running = false
    await Promise.all(workers)

    console.log(
      `/slots p95 ${p95(quiet).toFixed(1)} ms quiet (${quiet.length} reads), ${p95(loaded).toFixed(1)} ms beside 4 concurrent maximal sync.status batches (${loaded.length} reads); ${batches} batches (${batches * 50} procedures) cost ${statusLoads} status reads`,
    )
    expect(loaded.every((r) => r.status === 200)).toBe(true)
    expect(p95(loaded)).toBeLessThan(2_000)
    // One read per shared interval (1 s) plus the ones in flight as it ends: a handful, not one per procedure.
    expect(batches).toBeGreaterThan(4)
    expect(statusLoads).toBeLessThanOrEqual(8)
  })
})

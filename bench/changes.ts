/**
 * The change feed's fan-out: N SSE subscribers (default 1,000) on one
 * instance, each on GET /api/v1/changes (the same tRPC procedure as
 * availability.changes). For each of E events written by the snapshot writer,
 * the latency from its commit (the writer's COMMIT returning) to its arrival
 * at each subscriber; and the server's heap per open subscriber.
 * Target: every subscriber has every event within 1 s of its commit.
 *
 * Subscribers run in a worker thread (own event loop and heap), so the
 * server's heap is measured alone; both share this process's 2 cores, as on
 * one CI machine, so figures are pessimistic.
 *
 *   npm run bench:changes -- [--subscribers 1000] [--events 50] [--interval-ms 100]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import Fastify from 'fastify'
import { registerApi } from '../server/api/index.ts'
import type { SyncService } from '../server/api/services.ts'
import { createAvailabilityService } from '../server/availability/service.ts'
import { createSyncReads } from '../server/observability/sync-reads.ts'
import { createAuditService } from '../server/audit/service.ts'
import { silentLogger } from '../server/logger.ts'
import { createCatalogueService } from '../server/catalogue/service.ts'
import { createChangeFeed } from '../server/changes/feed.ts'
import { systemClock } from '../server/clock.ts'
import { createDatabase } from '../server/db/client.ts'
import { ensureDatabase, startEmbeddedPostgres } from '../server/db/embedded-postgres.ts'
import { createHealthService } from '../server/db/health.ts'
import { applyMigrations } from '../server/db/migrate.ts'
import { validateDay } from '../server/partner/schema.ts'
import { writeDaySnapshot } from '../server/sync/snapshot.ts'

const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    events: { type: 'string', default: '50' },
    'interval-ms': { type: 'string', default: '100' },
    json: { type: 'string' },
  },
})
const SUBSCRIBERS = Number(args.subscribers)
const EVENTS = Number(args.events)
const INTERVAL_MS = Number(args['interval-ms'])

const noSync = new Proxy({}, { get: () => async () => ({}) }) as SyncService
const now = () => performance.timeOrigin + performance.now()

// The subscribers: plain HTTP SSE clients, recording when each event id arrives.
const CLIENTS = `
const http = require('node:http')
const { parentPort, workerData } = require('node:worker_threads')
const { url, count } = workerData
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })
const arrivals = new Map()
let open = 0
const requests = []
for (let i = 0; i < count; i++) {
  const req = http.get(url, { agent, headers: { accept: 'text/event-stream' } }, (res) => {
    if (res.statusCode !== 200) { parentPort.postMessage({ type: 'error', message: 'HTTP ' + res.statusCode }); return }
    if (++open === count) parentPort.postMessage({ type: 'open' })
    res.setEncoding('utf8')
    let buf = ''
    res.on('data', (chunk) => {
      buf += chunk
      let end
      while ((end = buf.indexOf('\\n\\n')) >= 0) {
        const block = buf.slice(0, end)
        buf = buf.slice(end + 2)
        const m = /^id: (\\d+)$/m.exec(block)
        if (!m) continue
        const t = performance.timeOrigin + performance.now()
        let list = arrivals.get(m[1])
        if (!list) arrivals.set(m[1], (list = []))
        list.push(t)
      }
    })
  })
  req.on('error', (err) => parentPort.postMessage({ type: 'error', message: err.message }))
  requests.push(req)
}
parentPort.on('message', (m) => {
  if (m === 'report') parentPort.postMessage({ type: 'report', arrivals: Object.fromEntries(arrivals) })
  if (m === 'close') { for (const r of requests) r.destroy(); agent.destroy(); parentPort.close() }
})
`

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}
const gc = () => (globalThis as { gc?: () => void }).gc?.()
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)

async function main() {
  if (!(globalThis as { gc?: unknown }).gc) throw new Error('run with node --expose-gc (npm run bench:changes does)')
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-changes-'))
  const pg = await startEmbeddedPostgres({ dataDir })
  const closers: (() => Promise<unknown>)[] = [async () => pg.stop(), async () => fs.rmSync(dataDir, { recursive: true, force: true })]
  try {
    await ensureDatabase(pg.url, 'bench_changes')
    const url = pg.urlFor('bench_changes')
    await applyMigrations(url)
    const db = createDatabase(url)
    closers.unshift(() => db.close())
    await db.prisma.$executeRawUnsafe(`INSERT INTO product (id) VALUES (14)`)
    // The writer on its own connections, as another instance would be.
    const writer = createDatabase(url, { max: 2 })
    closers.unshift(() => writer.close())

    const changes = createChangeFeed({ connectionString: url, prisma: db.prisma, logger: { info() {}, warn: (o, m) => console.warn(m, o) } })
    await changes.start()
    closers.unshift(() => changes.stop())
    const app = Fastify({ logger: false })
    const services = {
      availability: createAvailabilityService({ prisma: db.prisma, clock: systemClock, defaultTimeZone: 'Asia/Singapore' }),
      sync: noSync,
      health: createHealthService(db.prisma),
      catalogue: createCatalogueService({ prisma: db.prisma, clock: systemClock, defaultTimeZone: 'Asia/Singapore' }),
      changes,
      syncReads: createSyncReads({ prisma: db.prisma, clock: systemClock }),
      audit: createAuditService({ prisma: db.prisma, clock: systemClock, logger: silentLogger }),
    }
    await registerApi(app, { services, adminToken: 'bench', rateLimitPerMinute: 1e9 })
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    closers.unshift(async () => {
      changes.closeStreams()
      await app.close()
    })

    gc()
    const before = process.memoryUsage()
    const t0 = Date.now()
    const worker = new Worker(CLIENTS, { eval: true, workerData: { url: `${base}/api/v1/changes`, count: SUBSCRIBERS } })
    const messages: { type: string; message?: string; arrivals?: Record<string, number[]> }[] = []
    const waiters: (() => void)[] = []
    worker.on('message', (m) => {
      messages.push(m)
      for (const w of waiters.splice(0)) w()
    })
    const next = async (type: string) => {
      for (;;) {
        const m = messages.find((x) => x.type === type || x.type === 'error')
        if (m) {
          messages.splice(messages.indexOf(m), 1)
          if (m.type === 'error') throw new Error(`subscriber: ${m.message}`)
          return m
        }
        await new Promise<void>((r) => waiters.push(r))
      }
    }
    await next('open')
    // Every stream subscribed on the server (the response headers go out before the hub subscription).
    while (changes.stats().subscribers < SUBSCRIBERS) await new Promise((r) => setTimeout(r, 20))
    const connectMs = Date.now() - t0
    gc()
    const after = process.memoryUsage()

    const committed = new Map<string, number>()
    const date = '2026-12-01'
    for (let i = 0; i < EVENTS; i++) {
      const raw = [
        {
          startDate: date,
          startTime: '04:00',
          endTime: '05:00',
          providerSlotId: 'S1',
          remaining: 1000 - i,
          currencyCode: 'SGD',
          variantId: 1,
          paxAvailability: [
            {
              type: 'ADULT',
              name: 'Adult',
              description: '',
              isPrimary: true,
              min: 1,
              max: 10,
              remaining: 1000 - i,
              price: { discount: 0, finalPrice: 100, originalPrice: 100, currencyCode: 'SGD' },
            },
          ],
        },
      ]
      const v = validateDay(raw, date)
      if (!v.ok) throw new Error(v.reason)
      const r = await writeDaySnapshot(writer.prisma, { productId: 14, date, slots: v.slots, fetchedAt: new Date() })
      committed.set(String(r.eventId), now())
      await new Promise((res) => setTimeout(res, INTERVAL_MS))
    }
    await new Promise((r) => setTimeout(r, 1_500))
    worker.postMessage('report')
    const { arrivals = {} } = await next('report')
    worker.postMessage('close')

    const latencies: number[] = []
    const lastArrival: number[] = []
    let missing = 0
    for (const [id, at] of committed) {
      const got = arrivals[id] ?? []
      missing += SUBSCRIBERS - got.length
      for (const t of got) latencies.push(t - at)
      if (got.length) lastArrival.push(Math.max(...got) - at)
    }
    latencies.sort((x, y) => x - y)
    lastArrival.sort((x, y) => x - y)
    const result = {
      date: new Date().toISOString(),
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
      subscribers: SUBSCRIBERS,
      events: EVENTS,
      intervalMs: INTERVAL_MS,
      deliveries: latencies.length,
      missing,
      connectMs,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies[latencies.length - 1]!,
      lastSubscriberP50Ms: percentile(lastArrival, 50),
      lastSubscriberMaxMs: lastArrival[lastArrival.length - 1]!,
      within1s: latencies.filter((l) => l <= 1000).length / (SUBSCRIBERS * EVENTS),
      heapPerSubscriberKB: (after.heapUsed - before.heapUsed) / SUBSCRIBERS / 1024,
      rssPerSubscriberKB: (after.rss - before.rss) / SUBSCRIBERS / 1024,
      heapMB: { before: mb(before.heapUsed), after: mb(after.heapUsed) },
    }
    console.log(JSON.stringify(result, null, 2))
    console.log(
      `${SUBSCRIBERS} subscribers, ${EVENTS} events: commit→receipt p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, max ${result.maxMs.toFixed(1)} ms; ` +
        `${(result.within1s * 100).toFixed(2)} % within 1 s, ${missing} missing; server heap ${result.heapPerSubscriberKB.toFixed(1)} KB per subscriber`,
    )
    if (args.json) fs.writeFileSync(args.json, JSON.stringify(result, null, 2))
    await worker.terminate()
  } finally {
    for (const close of closers) await close().catch(() => {})
  }
}

await main()

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSandbox, type Sandbox } from '../../server/sandbox/server.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { startInstance, type Instance } from '../helpers/instance.ts'
import { openSse, type SseClient } from '../helpers/sse.ts'

// Two whole instances (createServer) on one real database; B syncs from the
// real HTTP sandbox, A only serves. Subscribers on A must see B's writes in
// order and exactly once, across a disconnect and a reconnect to B.
const ADMIN = 'two-instances-admin'
let db: TestDatabase
let sandbox: Sandbox
let a: Instance
let b: Instance
const clients: SseClient[] = []

beforeAll(async () => {
  db = await createTestDatabase()
  sandbox = await startSandbox({ products: 0, rateLimitPerMinute: 100_000 })
  const env = { DATABASE_URL: db.url, DATABASE_DIRECT_URL: db.directUrl, PARTNER_BASE_URL: sandbox.url, PARTNER_API_KEY: sandbox.apiKey, ADMIN_TOKEN: ADMIN }
  a = await startInstance({ ...env, SYNC_ENABLED: 'false' })
  clients.push(await openSse(`${a.url}/api/v1/changes`))
  // B starts syncing 14 and 15 (each day's first write is an event) only once A's subscriber listens.
  b = await startInstance({ ...env, SYNC_PRODUCT_IDS: '14,15', PARTNER_RATE_LIMIT_PER_MINUTE: '1200' })
}, 60_000)
afterAll(async () => {
  for (const c of clients) c.close()
  await a?.stop()
  await b?.stop()
  await sandbox?.close()
  await db?.drop()
})

async function loggedIds(afterId = 0): Promise<number[]> {
  const rows = await db.prisma.$queryRawUnsafe<{ id: string }[]>('SELECT id::text AS id FROM change_event WHERE id > $1 ORDER BY change_event.id', afterId)
  return rows.map((r) => Number(r.id))
}
async function post(i: Instance, route: string): Promise<void> {
  const res = await fetch(`${i.url}${route}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } })
  expect(res.status).toBe(200)
}
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now()
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('the change feed across two instances', () => {
  it('a subscriber on A sees B’s writes in order, exactly once; after a disconnect it resumes on B with every missed event once', {
    timeout: 90_000,
  }, async () => {
    const live = clients[0]!
    expect(live.status).toBe(200)
    await live.waitFor(10, 30_000)
    // Disconnect mid-sync and let B write more while nobody listens.
    live.close()
    await new Promise((r) => setTimeout(r, 100))
    const seen = [...live.events]
    const lastSeen = seen[seen.length - 1]!.id
    await until('B to write 5 more events while the client is away', async () => (await loggedIds(lastSeen)).length >= 5)

    // Reconnect to the other instance with the last id it saw.
    const resumed = await openSse(`${b.url}/api/v1/changes`, { 'last-event-id': String(lastSeen) })
    clients.push(resumed)
    expect(resumed.status).toBe(200)
    // Some live events after the replay, then B stops writing (pause; in-flight writes land) and the log is complete.
    const missed = (await loggedIds(lastSeen)).length
    await resumed.waitFor(missed + 5, 30_000)
    await post(b, '/api/v1/sync/pause')
    await until('B idle', async () => ((await (await fetch(`${b.url}/api/v1/sync/status`)).json()) as { inFlight: number }).inFlight === 0)
    const all = await loggedIds()
    await until('the resumed client to catch up', () => seen.length + resumed.events.length >= all.length)
    await new Promise((r) => setTimeout(r, 300))

    const received = [...seen, ...resumed.events].map((e) => e.id)
    // In order, none missing, none repeated: exactly the log (it holds nothing older: this database is new).
    expect(received).toEqual(all)
    expect(new Set(received).size).toBe(received.length)
    // Every event came from B's writes; a first write of a day counts its slots as added.
    const first = [...seen, ...resumed.events].filter((e) => e.slotsAdded > 0)
    expect(first.length).toBeGreaterThan(15)
    for (const e of [...seen, ...resumed.events]) {
      expect([14, 15]).toContain(e.productId)
      expect(e.date).toMatch(/^\d{4}-\d{2}-\d{2}$/)
      expect(Date.parse(e.fetchedAt)).not.toBeNaN()
    }
  })
})

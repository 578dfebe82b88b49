import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createDatabase } from '../../server/db/client.ts'
import { startSandbox, type Sandbox } from '../../server/sandbox/server.ts'
import { postgresPidsFor, startProcess, type Started } from '../helpers/process.ts'
import { daysNotMatchingServed, uniqueViolations } from '../helpers/reliability.ts'
import { embeddedUrl, timedFetch, waitFor } from '../helpers/reliability-server.ts'

const ADMIN = 'crash-admin-token'
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-crash-'))
const pgDir = path.join(dir, 'postgres')
let sandbox: Sandbox | undefined
const children: Started[] = []
afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL')
  // A killed service leaves its Postgres behind; these are ours (this test's data dir).
  for (const pid of postgresPidsFor(pgDir)) process.kill(pid, 'SIGINT')
  await waitFor('Postgres to stop', () => (postgresPidsFor(pgDir).length ? undefined : true), 20_000).catch(() => {})
  await sandbox?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

async function withDb<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: embeddedUrl(pgDir) })
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

const CLAIMED = `SELECT product_id, date::text AS date, claimed_by FROM day_fetch_state WHERE claimed_until > now() ORDER BY 1, 2`
const FETCHED = `SELECT count(*)::int AS n FROM day_fetch_state WHERE last_fetched_at IS NOT NULL`

describe('kill -9 in the middle of a pass, then start again', () => {
  it('recovers Postgres, keeps pause and data, retakes the dead claims, and ends with every day equal to an answer served', async () => {
    // The partner lives in this test, so it outlives the crash and remembers
    // every answer it served to either run. Slow answers keep a pass in flight for seconds.
    sandbox = await startSandbox({ products: 1, rateLimitPerMinute: 100_000, apiKey: 'crash-partner-key' })
    const env = {
      PORT: '0',
      SLOTSYNC_DATA_DIR: dir,
      PARTNER_BASE_URL: sandbox.url,
      PARTNER_API_KEY: sandbox.apiKey,
      PARTNER_RATE_LIMIT_PER_MINUTE: '6000',
      SYNC_PRODUCT_IDS: '14,15,1000',
      ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'info',
    }
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }

    // Run 0 (sync off): pause product 15 before anything is fetched, stop cleanly.
    const setup = await startProcess('server/main.ts', { ...env, SYNC_ENABLED: 'false' })
    children.push(setup)
    expect((await timedFetch(`${setup.url}/api/v1/sync/pause`, { method: 'POST', headers: admin, body: '{"productId":15}' })).status).toBe(200)
    setup.child.kill('SIGTERM')
    expect(await setup.exited).toBe(0)

    // Run 1: killed while a pass holds claims and some days are already written.
    sandbox.setFaults({ slowRate: 1, slowMs: 1_500 })
    const first = await startProcess('server/main.ts', env)
    children.push(first)
    await waitFor('a pass in flight after some days were written', () =>
      withDb(async (c) => ((await c.query(FETCHED)).rows[0].n >= 8 && (await c.query(CLAIMED)).rowCount! > 0 ? true : undefined)),
    )
    first.child.kill('SIGKILL')
    await first.exited
    expect(postgresPidsFor(pgDir)).toHaveLength(1) // its Postgres is left running, as after a real crash

    const { dead, fetchedBefore } = await withDb(async (c) => {
      const dead = (await c.query<{ product_id: number; date: string; claimed_by: string }>(CLAIMED)).rows
      const fetchedBefore = (await c.query(FETCHED)).rows[0].n as number
      // The dead instance's claims hold for the engine's claim TTL (120 s, not
      // configurable from the environment); move them to their expiry instead of waiting.
      await c.query(`UPDATE day_fetch_state SET claimed_until = now() - interval '1 second' WHERE claimed_until > now()`)
      return { dead, fetchedBefore }
    })
    expect(dead.length).toBeGreaterThan(0)
    expect(new Set(dead.map((d) => d.claimed_by)).size).toBe(1)
    expect(dead.every((d) => d.product_id !== 15)).toBe(true)

    // Run 2: same data dir; the partner is fast again.
    sandbox.setFaults({})
    sandbox.resetStats()
    const second = await startProcess('server/main.ts', env)
    children.push(second)
    const out = second.output()
    expect(out).toContain('left running by an earlier run')
    expect(out).not.toContain('initialising a new Postgres cluster')
    expect(out).not.toContain('applied migration')
    expect((await timedFetch(`${second.url}/ready`)).body).toEqual({ ready: true, database: true, migrations: true })
    const status = (await timedFetch(`${second.url}/api/v1/sync/status`)).body
    expect([status.paused, status.pausedProducts]).toEqual([false, [15]])

    // Every pair of the unpaused products gets fetched, the dead claims included, and nothing stays claimed.
    await waitFor('every unpaused day fetched and no claim held', () =>
      withDb(async (c) => {
        const { rows } = await c.query(
          `SELECT count(*) FILTER (WHERE last_fetched_at IS NULL)::int AS never, count(*) FILTER (WHERE claimed_until IS NOT NULL)::int AS held FROM day_fetch_state WHERE product_id <> 15`,
        )
        return rows[0].never === 0 && rows[0].held === 0 ? true : undefined
      }),
    )
    const refetched = sandbox.stats().perProductDate
    for (const d of dead) expect(refetched[`${d.product_id}/${d.date}`], `${d.product_id}/${d.date}`).toBe(1)
    expect(Object.keys(refetched).some((k) => k.startsWith('15/'))).toBe(false)

    await withDb(async (c) => {
      expect((await c.query(FETCHED)).rows[0].n).toBeGreaterThanOrEqual(fetchedBefore + dead.length)
      const dupSlots = await c.query(`SELECT 1 FROM slot GROUP BY product_id, date, provider_slot_id HAVING count(*) > 1`)
      const dupPax = await c.query(`SELECT 1 FROM pax_availability GROUP BY slot_id, type HAVING count(*) > 1`)
      expect([dupSlots.rowCount, dupPax.rowCount]).toEqual([0, 0])
      const reader = createDatabase(embeddedUrl(pgDir), { max: 1 })
      try {
        const r = await daysNotMatchingServed(reader.prisma, sandbox!)
        expect(r.mismatches).toEqual([])
        expect(r.withSlots).toBeGreaterThan(10)
      } finally {
        await reader.close()
      }
      // Product 15 was paused throughout: never fetched, nothing stored.
      expect((await c.query(`SELECT count(*)::int AS n FROM slot WHERE product_id = 15`)).rows[0].n).toBe(0)
    })
    expect(uniqueViolations(second.output().split('\n'))).toEqual([])

    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
    expect(postgresPidsFor(pgDir)).toEqual([])
  }, 120_000)
})

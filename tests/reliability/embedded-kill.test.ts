import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { horizonAt } from '../../server/calendar/horizon.ts'
import { loadConfig } from '../../server/config.ts'
import { startSandbox, type Sandbox } from '../../server/sandbox/server.ts'
import { createServer, type SlotsyncServer } from '../../server/server.ts'
import { postgresPidsFor } from '../helpers/process.ts'
import { uniqueViolations } from '../helpers/reliability.ts'
import { captureLogStream, embeddedUrl, timedFetch, waitFor } from '../helpers/reliability-server.ts'

/**
 * kill -9 of the embedded Postgres' postmaster under a running service, in
 * the middle of sync: the service restarts it by itself and carries on.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-kill-'))
const pgDir = path.join(dir, 'postgres')
let sandbox: Sandbox | undefined
let server: SlotsyncServer | undefined
afterAll(async () => {
  await server?.stop().catch(() => {})
  for (const pid of postgresPidsFor(pgDir)) process.kill(pid, 'SIGINT')
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

const FETCHED = `SELECT product_id || '/' || date::text AS day, last_fetched_at FROM day_fetch_state WHERE last_fetched_at IS NOT NULL`
const CLAIMED = `SELECT count(*)::int AS n FROM day_fetch_state WHERE claimed_until > now()`

describe('the embedded Postgres killed with SIGKILL mid-sync', () => {
  it('is restarted on its own: /ready 200 again, /health 200 throughout, nothing lost, no day fetched twice, and stop() is prompt', async () => {
    // The partner lives in the test: its counts cover the whole run. Slow answers keep fetches in flight at the kill.
    sandbox = await startSandbox({ products: 0, rateLimitPerMinute: 100_000, apiKey: 'kill-partner-key' })
    sandbox.setFaults({ slowRate: 1, slowMs: 700 })
    const logs = captureLogStream()
    const config = loadConfig({
      PORT: '0',
      SLOTSYNC_DATA_DIR: dir,
      PARTNER_BASE_URL: sandbox.url,
      PARTNER_API_KEY: sandbox.apiKey,
      PARTNER_RATE_LIMIT_PER_MINUTE: '6000',
      SYNC_PRODUCT_IDS: '14,15',
      ADMIN_TOKEN: 'kill-admin-token',
      LOG_LEVEL: 'info',
    })
    server = createServer(config, { logStream: logs.stream })
    const { url } = await server.start()
    const { today } = horizonAt(Date.now(), 'Asia/Singapore')
    const slotsUrl = `${url}/api/v1/experience/14/slots?date=${today}`

    const before = await waitFor('some days written and a fetch in flight', () =>
      withDb(async (c) => {
        const { rows } = await c.query<{ day: string; last_fetched_at: Date }>(FETCHED)
        return rows.length >= 8 && (await c.query(CLAIMED)).rows[0].n > 0 ? rows : undefined
      }),
    )
    const slotsBefore = await timedFetch(slotsUrl)
    expect(slotsBefore.status).toBe(200)

    const [postmaster] = postgresPidsFor(pgDir)
    expect(postmaster).toBeGreaterThan(0)
    process.kill(postmaster!, 'SIGKILL')
    const killedAt = Date.now()

    const readyStatuses: number[] = []
    let slowestReadyMs = 0
    for (;;) {
      const [health, ready] = await Promise.all([timedFetch(`${url}/health`), timedFetch(`${url}/ready`)])
      expect(health.status, health.text).toBe(200)
      slowestReadyMs = Math.max(slowestReadyMs, ready.ms)
      readyStatuses.push(ready.status)
      if (ready.status !== 200) expect(ready.body.reason).toEqual(expect.any(String))
      if (ready.status === 200 && readyStatuses.includes(503)) break
      expect(Date.now() - killedAt, 'ready again within 90 s').toBeLessThan(90_000)
      await new Promise((r) => setTimeout(r, 250))
    }
    const recoveredMs = Date.now() - killedAt
    expect(slowestReadyMs).toBeLessThan(2_000)
    expect(postgresPidsFor(pgDir)).toHaveLength(1)
    expect(postgresPidsFor(pgDir)[0]).not.toBe(postmaster)

    // What was written before the kill is still there, and reads serve it.
    await withDb(async (c) => {
      const after = new Map((await c.query<{ day: string; last_fetched_at: Date }>(FETCHED)).rows.map((r) => [r.day, r.last_fetched_at.getTime()]))
      for (const d of before) expect(after.get(d.day), d.day).toBeGreaterThanOrEqual(d.last_fetched_at.getTime())
    })
    const slotsAfter = await timedFetch(slotsUrl)
    expect([slotsAfter.status, slotsAfter.body.slots]).toEqual([200, slotsBefore.body.slots])

    // Sync carries on by itself, and no day was asked of the partner twice.
    await waitFor(
      'new days fetched after the restart',
      () => withDb(async (c) => ((await c.query(FETCHED)).rowCount! > before.length + 5 ? true : undefined)),
      40_000,
    )
    const perDay = sandbox.stats().perProductDate
    expect(Object.entries(perDay).filter(([, n]) => n > 1)).toEqual([])

    const lines = logs.lines()
    const count = (msg: string) => lines.filter((l) => l.msg === msg).length
    expect([count('embedded Postgres exited unexpectedly; restarting it'), count('embedded Postgres restarted')]).toEqual([1, 1])
    expect([count('database unavailable'), count('database available again')]).toEqual([1, 1])
    expect(lines.filter((l) => l.msg === 'request failed')).toEqual([])
    expect(uniqueViolations(lines)).toEqual([])

    const t0 = Date.now()
    await server.stop()
    const stopMs = Date.now() - t0
    expect(stopMs).toBeLessThan(10_000)
    expect(postgresPidsFor(pgDir)).toEqual([])
    console.log(`recovered in ${recoveredMs} ms; slowest /ready ${Math.round(slowestReadyMs)} ms; stop ${stopMs} ms`)
  }, 90_000)
})

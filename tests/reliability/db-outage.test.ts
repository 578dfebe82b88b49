import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { addDays } from '../../server/calendar/days.ts'
import { horizonAt } from '../../server/calendar/horizon.ts'
import { loadConfig } from '../../server/config.ts'
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedDatabase } from '../../server/db/embedded-postgres.ts'
import { createServer, type SlotsyncServer } from '../../server/server.ts'
import { captureLogStream, timedFetch, waitFor } from '../helpers/reliability-server.ts'

/**
 * Postgres stopped under a running service for OUTAGE_MS (12 s rather than
 * the 30 s: long enough for four failed passes and three back-off
 * steps, short enough for `npm test`), then started again on the same port.
 */
const OUTAGE_MS = 12_000
const ADMIN = 'outage-admin-token'
const TZ = 'Asia/Singapore'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-outage-'))
let pg: EmbeddedDatabase | undefined
let server: SlotsyncServer | undefined
afterAll(async () => {
  await server?.stop().catch(() => {})
  await pg?.stop().catch(() => {})
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('a database outage under a running service', () => {
  it('answers 503 fast while Postgres is gone, backs off, and resumes by itself when it returns', async () => {
    const dataDir = path.join(dir, 'pg')
    pg = await startEmbeddedPostgres({ dataDir })
    const port = pg.port
    await ensureDatabase(pg.url, 'slotsync')
    const logs = captureLogStream()
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: pg.urlFor('slotsync'),
      ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'info',
      SANDBOX_PRODUCTS: '0',
      PARTNER_RATE_LIMIT_PER_MINUTE: '600',
      SANDBOX_RATE_LIMIT_PER_MINUTE: '600',
    })
    server = createServer(config, { logStream: logs.stream })
    const { url } = await server.start()
    const lines = () => logs.lines()
    await waitFor('a first sync pass', () => (lines().some((l) => l.msg === 'sync pass') ? true : undefined))
    const { today } = horizonAt(Date.now(), TZ)
    expect((await timedFetch(`${url}/api/v1/experience/14/slots?date=${today}`)).status).toBe(200)

    await pg.stop()
    const downAt = Date.now()
    // Let the scheduler meet the outage a few times before reading.
    await new Promise((r) => setTimeout(r, 4_000))
    const during = [
      await timedFetch(`${url}/api/v1/experience/14/slots?date=${addDays(today, 1)}`),
      await timedFetch(`${url}/api/v1/experience/15/dates`),
      await timedFetch(`${url}/api/v1/sync/status`),
      await timedFetch(`${url}/api/v1/sync/pause`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } }),
    ]
    for (const r of during) {
      expect(r.status, r.text).toBe(503)
      expect(r.body).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: expect.any(String) } })
      expect(r.ms).toBeLessThan(3_000) // an answer, not a hang
    }
    const ready = await timedFetch(`${url}/ready`)
    expect([ready.status, ready.body?.ready, ready.ms < 3_000]).toEqual([503, false, true])
    expect((await timedFetch(`${url}/health`)).status).toBe(200)

    await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - downAt)))
    const failed = lines().filter((l) => l.msg === 'sync pass failed; backing off')
    // Backing off: one pass per 1, 2, 4, 8 s, not one per 1 s tick (12 or so).
    expect(failed.length).toBeGreaterThanOrEqual(3)
    expect(failed.length).toBeLessThanOrEqual(5)
    expect(failed.map((l) => l.retryInMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000].slice(0, failed.length))

    pg = await startEmbeddedPostgres({ dataDir, port })
    const upAt = Date.now()
    // Nothing is restarted by hand: the pool reconnects, the scheduler's next try succeeds.
    await waitFor('/ready', async () => ((await timedFetch(`${url}/ready`)).status === 200 ? true : undefined), 20_000)
    const read = await timedFetch(`${url}/api/v1/experience/14/slots?date=${addDays(today, 2)}`)
    expect(read.status).toBe(200)
    expect(read.body.slots).toBeInstanceOf(Array)
    await waitFor('sync passes to succeed again', () => (lines().some((l) => l.msg === 'sync passes succeed again') ? true : undefined), 25_000)
    const run = await timedFetch(`${url}/api/v1/sync/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ productId: 14, from: today, to: addDays(today, 3) }),
    })
    expect(run.status).toBe(200)
    const status = await waitFor(
      'a successful fetch after the outage',
      async () => {
        const s = (await timedFetch(`${url}/api/v1/sync/status`)).body
        return s.lastSuccessAt && Date.parse(s.lastSuccessAt) > upAt ? s : undefined
      },
      20_000,
    )
    expect(status.paused).toBe(false) // the pause sent during the outage failed, and said so
    expect(Date.now() - upAt).toBeLessThan(30_000)
    expect(lines().filter((l) => l.level >= 60)).toEqual([]) // nothing fatal: the process never went down
  }, 90_000)
})

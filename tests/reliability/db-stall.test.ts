import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { addDays } from '../../server/calendar/days.ts'
import { horizonAt } from '../../server/calendar/horizon.ts'
import { loadConfig } from '../../server/config.ts'
import { processesIn } from '../../server/db/embedded-supervisor.ts'
import { createServer, type SlotsyncServer } from '../../server/server.ts'
import { postgresPidsFor } from '../helpers/process.ts'
import { captureLogStream, timedFetch, waitFor } from '../helpers/reliability-server.ts'

/**
 * Every process of the embedded Postgres stopped with SIGSTOP: the server
 * accepts connections and answers nothing, the case a timeout on the
 * server's side cannot catch. The service must say so fast, not hang.
 */
const STALL_MS = 10_000
const STATEMENT_TIMEOUT_MS = 2_000
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-stall-'))
const pgDir = path.join(dir, 'postgres')
let server: SlotsyncServer | undefined
const signalAll = (sig: NodeJS.Signals) => {
  const pids = processesIn(pgDir)
  for (const pid of pids) process.kill(pid, sig)
  return pids
}
afterAll(async () => {
  signalAll('SIGCONT')
  await server?.stop().catch(() => {})
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('the database stalled (SIGSTOP)', () => {
  it('/ready answers within 2 s throughout, reads 503 within the statement timeout, all green after, and stop() during a stall is prompt', async () => {
    const logs = captureLogStream()
    const config = loadConfig({
      PORT: '0',
      SLOTSYNC_DATA_DIR: dir,
      SANDBOX_PRODUCTS: '0',
      ADMIN_TOKEN: 'stall-admin-token',
      LOG_LEVEL: 'info',
      DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    })
    server = createServer(config, { logStream: logs.stream })
    const { url } = await server.start()
    const { today } = horizonAt(Date.now(), 'Asia/Singapore')
    expect((await timedFetch(`${url}/ready`)).status).toBe(200)
    expect((await timedFetch(`${url}/api/v1/experience/14/slots?date=${today}`)).status).toBe(200)

    const stopped = signalAll('SIGSTOP')
    expect(stopped).toContain(postgresPidsFor(pgDir)[0])
    expect(stopped.length).toBeGreaterThan(3) // the postmaster, its helpers, the pools' backends
    const stalledAt = Date.now()
    let day = 1
    const ready: { status: number; ms: number; reason?: string }[] = []
    const reads: { status: number; ms: number }[] = []
    while (Date.now() - stalledAt < STALL_MS) {
      const [r, health, read] = await Promise.all([
        timedFetch(`${url}/ready`),
        timedFetch(`${url}/health`),
        // A day not read before: the read cache cannot answer it.
        day % 2 ? timedFetch(`${url}/api/v1/experience/14/slots?date=${addDays(today, day)}`) : timedFetch(`${url}/api/v1/sync/status`),
      ])
      day++
      ready.push({ status: r.status, ms: r.ms, reason: r.body?.reason })
      reads.push({ status: read.status, ms: read.ms })
      expect(health.status).toBe(200) // a stall of seconds is no reason to restart the service
    }
    expect(ready.length).toBeGreaterThanOrEqual(3)
    expect(
      ready.every((r) => r.status === 503 && r.ms < 2_000 && typeof r.reason === 'string'),
      JSON.stringify(ready),
    ).toBe(true)
    expect(
      reads.every((r) => r.status === 503 && r.ms < STATEMENT_TIMEOUT_MS + 2_500),
      JSON.stringify(reads),
    ).toBe(true)

    signalAll('SIGCONT')
    await waitFor('/ready 200 after the stall', async () => ((await timedFetch(`${url}/ready`)).status === 200 ? true : undefined), 15_000)
    expect((await timedFetch(`${url}/api/v1/experience/14/slots?date=${addDays(today, 30)}`)).status).toBe(200)
    expect((await timedFetch(`${url}/api/v1/sync/status`)).status).toBe(200)

    const lines = logs.lines()
    const count = (msg: string) => lines.filter((l) => l.msg === msg).length
    expect([count('database unavailable'), count('database available again')]).toEqual([1, 1])
    expect(lines.filter((l) => l.msg === 'request failed')).toEqual([]) // no stack per 503

    // Stalled again, then asked to stop: it continues and stops its Postgres rather than waiting on it.
    signalAll('SIGSTOP')
    await new Promise((r) => setTimeout(r, 1_000))
    const t0 = Date.now()
    await server.stop()
    const stopMs = Date.now() - t0
    expect(stopMs).toBeLessThan(8_000)
    await waitFor('Postgres gone', () => (processesIn(pgDir).length === 0 ? true : undefined), 5_000)
    const slowestReady = Math.max(...ready.map((r) => r.ms))
    const slowestRead = Math.max(...reads.map((r) => r.ms))
    console.log(`stall: slowest /ready ${Math.round(slowestReady)} ms, slowest read ${Math.round(slowestRead)} ms; stop during a stall ${stopMs} ms`)
  }, 80_000)
})

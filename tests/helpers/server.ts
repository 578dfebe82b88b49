import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startProcess, type Started } from './process.ts'

/** The part of GET /api/v1/sync/status the tests read. */
export interface SyncStatus {
  paused: boolean
  pausedProducts: number[]
  queue: number
  queued: number
  inFlight: number
  neverFetched: number
}

/** The whole service (`npm start`'s code) on its embedded Postgres and in-process sandbox. */
export interface LiveServer {
  url: string
  adminToken: string
  process: Started
  /** GET a REST route as JSON: the other face, to check what the SDK and examples print. */
  get<T = unknown>(route: string): Promise<T>
  /** POST an admin REST route (pause/resume/run) with the token. */
  post<T = unknown>(route: string, body?: unknown): Promise<T>
  /** Polls sync status (REST) until `done(status)`. */
  waitForStatus(done: (s: SyncStatus) => boolean, what: string, timeoutMs?: number): Promise<SyncStatus>
  /**
   * Waits until each product (default: 14) has at least two open dates,
   * then pauses sync and waits for in-flight fetches to be written: from
   * then on no answer changes, so two reads can be compared. Faster than
   * waiting for the whole horizon (~10 pairs/s: 12 s for 14 and 15).
   */
  freeze(productIds?: number[]): Promise<void>
  /** SIGTERM, wait for exit, remove the data directory. */
  stop(): Promise<void>
}

export interface LiveServerOptions {
  /** Generated sandbox products besides 14 and 15 (default 0). */
  products?: number
  env?: Record<string, string>
}

export async function startLiveServer(opts: LiveServerOptions = {}): Promise<LiveServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-live-'))
  const adminToken = randomBytes(12).toString('hex')
  let p: Started
  try {
    p = await startProcess('server/main.ts', {
      PORT: '0',
      SLOTSYNC_DATA_DIR: dataDir,
      ADMIN_TOKEN: adminToken,
      // High partner limits so the first sync drains in seconds, not minutes.
      PARTNER_RATE_LIMIT_PER_MINUTE: '6000',
      SANDBOX_RATE_LIMIT_PER_MINUTE: '6000',
      SANDBOX_PRODUCTS: String(opts.products ?? 0),
      LOG_LEVEL: 'warn',
      ...opts.env,
    })
  } catch (err) {
    fs.rmSync(dataDir, { recursive: true, force: true })
    throw err
  }
  const request = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${p.url}${route}`, {
      method,
      headers: method === 'POST' ? { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' } : {},
      body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
    })
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`)
    return (await res.json()) as T
  }
  const waitForStatus = async (done: (s: SyncStatus) => boolean, what: string, timeoutMs = 30_000): Promise<SyncStatus> => {
    const until = Date.now() + timeoutMs
    for (;;) {
      const s = await request<SyncStatus>('GET', '/api/v1/sync/status')
      if (done(s)) return s
      if (Date.now() > until) throw new Error(`no ${what} after ${timeoutMs} ms: ${JSON.stringify(s)}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return {
    url: p.url,
    adminToken,
    process: p,
    get: (route) => request('GET', route),
    post: (route, body) => request('POST', route, body),
    waitForStatus,
    async freeze(productIds = [14]) {
      const until = Date.now() + 30_000
      for (const id of productIds) {
        while ((await request<{ dates: unknown[] }>('GET', `/api/v1/experience/${id}/dates`)).dates.length < 2) {
          if (Date.now() > until) throw new Error(`product ${id} has no open dates after 30 s`)
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      await request('POST', '/api/v1/sync/pause')
      await waitForStatus((s) => s.inFlight === 0, 'idle sync after pause')
    },
    async stop() {
      p.child.kill('SIGTERM')
      await p.exited
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

import fs from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'

/**
 * For the reliability tests that run the whole service (in-process through
 * createServer, or as a child process): log capture, polling, and a way into
 * the embedded Postgres a child left behind.
 */

export interface LogCapture {
  stream: Writable
  /** Every line written so far, raw (secrets are searched in the raw text). */
  text(): string
  /** The JSON lines, parsed. */
  lines(): { level: number; msg?: string; [k: string]: unknown }[]
}

export function captureLogStream(): LogCapture {
  let text = ''
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk
      done()
    },
  })
  return {
    stream,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
  }
}

/** Polls `probe` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** GET/POST with a timer: the outage test asserts on how fast an answer came. */
// biome-ignore lint/suspicious/noExplicitAny: a JSON body the outage test inspects loosely, whatever the route answered
export async function timedFetch(url: string, init?: RequestInit): Promise<{ status: number; body: any; ms: number; text: string }> {
  const t0 = performance.now()
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) })
  const text = await res.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status: res.status, body, ms: performance.now() - t0, text }
}

/**
 * The URL of the `slotsync` database on the embedded cluster in `dataDir`
 * (SLOTSYNC_DATA_DIR/postgres), read from postmaster.pid: the cluster a
 * killed service left running, or the one a running child started.
 */
export function embeddedUrl(pgDataDir: string, database = 'slotsync'): string {
  const lines = fs.readFileSync(path.join(pgDataDir, 'postmaster.pid'), 'utf8').split('\n')
  const port = Number(lines[3])
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no port in ${pgDataDir}/postmaster.pid`)
  // The embedded cluster's fixed local credentials (server/db/embedded-postgres.ts).
  return `postgresql://postgres:slotsync-embedded@127.0.0.1:${port}/${database}`
}

import { randomBytes } from 'node:crypto'
import net from 'node:net'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyMigrations } from '../../server/db/migrate.ts'
import { startSandbox, type Sandbox } from '../../server/sandbox/server.ts'
import { clusterUrl, connectUrl, createTestDatabase } from '../helpers/db.ts'
import { startProcess, type Started } from '../helpers/process.ts'
import { waitFor } from '../helpers/reliability-server.ts'
import { openSse } from '../helpers/sse.ts'

// Real child processes on the run's Postgres, against an in-test partner.
const ADMIN = `adm_${randomBytes(8).toString('hex')}`
let partner: Sandbox
const children: Started[] = []
const cleanups: (() => Promise<void>)[] = []
beforeAll(async () => {
  partner = await startSandbox({ products: 1, rateLimitPerMinute: 100_000 })
})
afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL')
  for (const c of cleanups) await c()
  await partner?.close()
})

function env(databaseUrl: string, more: Record<string, string> = {}) {
  return {
    PORT: '0',
    DATABASE_URL: databaseUrl,
    PARTNER_BASE_URL: partner.url,
    PARTNER_API_KEY: partner.apiKey,
    SYNC_PRODUCT_IDS: '14',
    ADMIN_TOKEN: ADMIN,
    ...more,
  }
}

async function readyOf(url: string) {
  const res = await fetch(`${url}/ready`)
  return { status: res.status, body: (await res.json()) as { ready: boolean; reason?: string } }
}

describe('a read-only instance (SYNC_ENABLED=false on DATABASE_URL)', () => {
  it('applies no migrations and writes nothing; /ready answers 503 with the reason until another instance migrates', async () => {
    const name = `ro_${randomBytes(5).toString('hex')}`
    const admin = new pg.Client({ connectionString: clusterUrl() })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    await admin.end()
    const url = connectUrl(name)
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: clusterUrl() })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    })
    const tables = async () => {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      try {
        return (await c.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.t)
      } finally {
        await c.end()
      }
    }

    const p = await startProcess('server/main.ts', env(url, { SYNC_ENABLED: 'false' }))
    children.push(p)
    const before = await readyOf(p.url)
    expect(before.status).toBe(503)
    expect(before.body).toMatchObject({ ready: false, database: true, migrations: false, reason: expect.stringMatching(/not migrated/) })
    expect(await tables()).toEqual([])
    // A read against the missing schema is "try again", not an internal error.
    expect((await fetch(`${p.url}/api/v1/experience/14/dates`)).status).toBe(503)

    await applyMigrations(url) // what a writer instance does at its start
    const after = await waitFor('ready after the migration', async () => {
      const r = await readyOf(p.url)
      return r.status === 200 ? r : undefined
    })
    expect(after.body).toEqual({ ready: true, database: true, migrations: true })
    await waitFor('the schema log line', () => (p.output().includes('database schema is migrated') ? true : undefined), 10_000)
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    const products = (await c.query('SELECT count(*)::int AS n FROM product')).rows[0].n
    await c.end()
    expect(products).toBe(0) // SYNC_PRODUCT_IDS is the writers' job
    expect(partner.stats().requests).toBe(0)
    p.child.kill('SIGTERM')
    expect(await p.exited).toBe(0)
  })
})

describe('behind a pooler (DATABASE_URL) with DATABASE_DIRECT_URL for LISTEN', () => {
  // In CI's PgBouncer leg DATABASE_URL is the transaction pooler, which never
  // delivers NOTIFY; elsewhere both name the same server.
  it('delivers change events live to a subscriber', async () => {
    const db = await createTestDatabase()
    cleanups.push(() => db.drop())
    const p = await startProcess('server/main.ts', env(db.url, { DATABASE_DIRECT_URL: db.directUrl, PARTNER_RATE_LIMIT_PER_MINUTE: '600' }))
    children.push(p)
    const sse = await openSse(`${p.url}/api/v1/changes`)
    try {
      const events = await sse.waitFor(1, 30_000)
      expect(events[0]).toMatchObject({ productId: 14 })
    } finally {
      sse.close()
    }
    p.child.kill('SIGTERM')
    expect(await p.exited).toBe(0)
  })
})

describe('SIGTERM', () => {
  it('turns /ready to 503 first, answers the request in flight, then exits 0', async () => {
    const db = await createTestDatabase()
    cleanups.push(() => db.drop())
    const p = await startProcess('server/main.ts', env(db.url, { SHUTDOWN_DELAY_MS: '3000' }))
    children.push(p)
    expect((await readyOf(p.url)).status).toBe(200)
    // The engine works on this database too (claims, budget, snapshot writes).
    await waitFor(
      'a sync pass to store a day',
      async () => (((await (await fetch(`${p.url}/api/v1/sync/status`)).json()) as { lastSuccessAt: string | null }).lastSuccessAt ? true : undefined),
      20_000,
    )

    // A request in flight: its body arrives in two halves, around the signal.
    const { port, hostname } = new URL(p.url)
    const body = '{"productId":14}'
    const socket = net.connect(Number(port), hostname)
    let response = ''
    socket.on('data', (d) => (response += d))
    const closed = new Promise((r) => socket.on('close', r))
    await new Promise((r) => socket.once('connect', r))
    socket.write(
      `POST /api/v1/sync/pause HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
    )
    await new Promise((r) => setTimeout(r, 200))

    const t0 = Date.now()
    p.child.kill('SIGTERM')
    const draining = await waitFor(
      '/ready to turn 503',
      async () => {
        const r = await readyOf(p.url)
        return r.status === 503 ? r : undefined
      },
      5_000,
      20,
    )
    expect(Date.now() - t0).toBeLessThan(3_000) // before the listener closes
    expect(draining.body).toMatchObject({ ready: false, database: true, migrations: true, reason: 'shutting down' })
    expect((await fetch(`${p.url}/health`)).status).toBe(200) // still serving meanwhile

    // Only once the listener has closed does the rest of the body arrive: the
    // request in flight must still get its answer.
    await waitFor(
      'the listener to close',
      () =>
        fetch(`${p.url}/health`).then(
          () => undefined,
          () => true,
        ),
      10_000,
      50,
    )
    expect(p.child.exitCode).toBeNull()
    socket.write(body.slice(5))
    await waitFor('the answer to the request in flight', () => (/\r\n\r\n\{.*\}$/s.test(response) ? true : undefined), 10_000, 20)
    socket.end()
    await closed
    expect(response).toMatch(/^HTTP\/1\.1 200 /)
    expect(response).toContain('"paused":true')
    expect(await p.exited).toBe(0)
  })
})

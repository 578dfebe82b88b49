import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startSandbox, type Sandbox } from '../../server/sandbox/server.ts'
import { postgresPidsFor, startProcess, type Started } from '../helpers/process.ts'
import { everyFault } from '../helpers/reliability.ts'
import { timedFetch, waitFor } from '../helpers/reliability-server.ts'

// Distinctive values: any appearance in a log or a response is a leak, not a coincidence.
const PARTNER_KEY = `pk_live_${randomBytes(12).toString('hex')}`
const ADMIN = `adm_${randomBytes(12).toString('hex')}`
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-secrets-'))
const sandboxes: Sandbox[] = []
const children: Started[] = []
afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL')
  for (const s of sandboxes) await s.close()
  for (const pid of postgresPidsFor(path.join(dir, 'postgres'))) process.kill(pid, 'SIGINT')
  await waitFor('Postgres to stop', () => (postgresPidsFor(path.join(dir, 'postgres')).length ? undefined : true), 20_000).catch(() => {})
  fs.rmSync(dir, { recursive: true, force: true })
})

function leaks(text: string): string[] {
  return [PARTNER_KEY, ADMIN, PARTNER_KEY.slice(8), ADMIN.slice(4)].filter((s) => text.includes(s))
}

/** Every kind of answer a client can get, the admin token used right and wrong. */
async function exercise(url: string): Promise<string[]> {
  const auth = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }
  const wrong = { authorization: `Bearer ${ADMIN}x`, 'content-type': 'application/json' }
  const calls: [string, RequestInit?][] = [
    ['/api/v1/sync/status'],
    ['/openapi.json'],
    ['/docs'],
    ['/ready'],
    ['/api/v1/experience/14/dates'],
    ['/api/v1/experience/abc/slots?date=2026-02-30'],
    ['/api/v1/experience/999999/dates'],
    ['/no/such/route'],
    ['/api/v1/sync/pause', { method: 'POST', headers: wrong, body: '{}' }],
    ['/api/v1/sync/pause', { method: 'POST' }],
    ['/api/v1/sync/run', { method: 'POST', headers: auth, body: '{"productId":"x"}' }],
    ['/api/v1/sync/run', { method: 'POST', headers: auth, body: '{"productId":14}' }],
    ['/api/v1/sync/pause', { method: 'POST', headers: auth, body: '{"productId":15}' }],
    ['/api/v1/sync/resume', { method: 'POST', headers: auth, body: '{"productId":15}' }],
    ['/trpc/sync.status'],
    ['/trpc/sync.pause', { method: 'POST', headers: wrong, body: '{}' }],
  ]
  const out: string[] = []
  for (const [p, init] of calls) {
    const r = await fetch(url + p, init)
    out.push(`${p} ${r.status} ${JSON.stringify([...r.headers])} ${await r.text()}`)
  }
  return out
}

describe('secrets under faults and errors', () => {
  it('neither the partner key nor the admin token appears in any log line or API response', async () => {
    const partner = await startSandbox({
      products: 1,
      apiKey: PARTNER_KEY,
      rateLimitPerMinute: 100_000,
      faults: { ...everyFault(0.35, { slowMs: 50, hangMs: 1_500 }), rateLimitNoBodyRate: 0 },
    })
    // A partner that rejects the key (HTTP 401): the error path most tempted to print it.
    const rejecting = await startSandbox({ products: 1, apiKey: 'another-key', rateLimitPerMinute: 100_000 })
    sandboxes.push(partner, rejecting)
    const env = {
      PORT: '0',
      SLOTSYNC_DATA_DIR: dir,
      PARTNER_API_KEY: PARTNER_KEY,
      ADMIN_TOKEN: ADMIN,
      PARTNER_RATE_LIMIT_PER_MINUTE: '6000',
      SYNC_PRODUCT_IDS: '14,15,1000',
      // Everything the service can say.
      LOG_LEVEL: 'trace',
    }
    const responses: string[] = []
    const outputs: string[] = []

    // First the rejected key (a 429's halt, which comes last, is stored and would hold the next run too).
    const runRejected = await startProcess('server/main.ts', { ...env, PARTNER_BASE_URL: rejecting.url })
    children.push(runRejected)
    const status = await waitFor('the partner to reject the key', async () => {
      const s = (await timedFetch(`${runRejected.url}/api/v1/sync/status`)).body
      return /401/.test(s.lastError?.message ?? '') ? s : undefined
    })
    responses.push(JSON.stringify(status), ...(await exercise(runRejected.url)))
    runRejected.child.kill('SIGTERM')
    expect(await runRejected.exited).toBe(0)
    outputs.push(runRejected.output())

    const runFaulty = await startProcess('server/main.ts', { ...env, PARTNER_BASE_URL: partner.url })
    children.push(runFaulty)
    await waitFor('faults to reach the service', () => (partner.stats().requests >= 50 ? true : undefined), 40_000)
    // A no-body 429 last: it halts the service for a real minute, so nothing would follow it.
    partner.setFaults({ rateLimitNoBodyRate: 1 })
    await waitFor('the service to halt on a 429', async () =>
      (await timedFetch(`${runFaulty.url}/api/v1/sync/status`)).body.budget.haltedUntil ? true : undefined,
    )
    responses.push(...(await exercise(runFaulty.url)))
    runFaulty.child.kill('SIGTERM')
    expect(await runFaulty.exited).toBe(0)
    outputs.push(runFaulty.output())

    // The check is not vacuous: the key was really sent, faults and errors really happened and were logged.
    const s = partner.stats()
    expect(s.unauthorized).toBe(0)
    expect(Object.values(s.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(5)
    expect(rejecting.stats().unauthorized).toBeGreaterThan(0)
    const logs = outputs.join('\n')
    for (const m of ['partner fetch failed', 'partner day rejected', 'partner rate limit hit', 'partner rejected the API key', 'sync pass', 'incoming request'])
      expect(logs, m).toContain(m)
    expect(responses.join('\n')).toMatch(/"UNAUTHORIZED"/)

    expect(leaks(logs)).toEqual([])
    expect(leaks(responses.join('\n'))).toEqual([])
  }, 120_000)
})

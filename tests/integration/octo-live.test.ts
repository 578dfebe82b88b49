import { spawn } from 'node:child_process'
import { zAvailabilityCalendar, zProduct } from '@octocloud/types'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localDate } from '../../server/calendar/days.ts'
import { ROOT } from '../helpers/process.ts'
import { startLiveServer, type LiveServer } from '../helpers/server.ts'

// The OCTO face of `npm start`'s code (server.ts wiring, config), fed by the
// real sync engine from the partner sandbox over HTTP, and the example
// script a reseller would run against it.
const KEY = 'live-octo-key-5d1e0b'
let server: LiveServer

beforeAll(async () => {
  // No read cache: a /dates answer cached while freeze() polled could predate the last write.
  server = await startLiveServer({ env: { OCTO_API_KEYS: `${KEY}, another-key`, LOG_LEVEL: 'debug', API_CACHE_TTL_MS: '0' } })
  await server.freeze([14])
}, 60_000)
afterAll(async () => server?.stop())

const octo = async (path: string, body?: object, key = KEY) => {
  const res = await fetch(`${server.url}/octo${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${key}`, 'octo-capabilities': 'octo/pricing', ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked against the OCTO schemas
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body the test inspects field by field, whatever the route answered
  return { status: res.status, body: (await res.json()) as any, capabilities: res.headers.get('octo-capabilities') }
}

function runExample(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/octo-calendar.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', SLOTSYNC_URL: server.url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

describe('OCTO on a running server', () => {
  it('serves what sync fetched from the sandbox, agreeing with /dates', async () => {
    const p = await octo('/products/14')
    expect(p.status).toBe(200)
    expect(p.capabilities).toBe('octo/pricing')
    expect(zProduct.safeParse(p.body).error).toBeUndefined()
    expect(p.body.options[0].units.map((u: { id: string }) => u.id)).toEqual(['ADULT_12~99', 'CHILD_3~11'])
    const { dates } = await server.get<{ dates: { date: string }[] }>('/api/v1/experience/14/dates')
    const today = localDate(Date.now(), 'Asia/Singapore')
    const cal = await octo('/availability/calendar', {
      productId: '14',
      optionId: 'DEFAULT',
      localDateStart: today,
      localDateEnd: dates[dates.length - 1]!.date,
    })
    expect(cal.status).toBe(200)
    for (const d of cal.body) expect(zAvailabilityCalendar.safeParse(d).error).toBeUndefined()
    expect(cal.body.filter((d: { available: boolean }) => d.available).map((d: { localDate: string }) => d.localDate)).toEqual(dates.map((d) => d.date))
    expect((await octo('/supplier', undefined, 'wrong')).status).toBe(401)
    expect((await octo('/supplier', undefined, 'another-key')).body.endpoint).toBe(`${server.url}/octo`)
  })

  it('examples/octo-calendar.ts prints the product, the calendar and the first open day', async () => {
    const { dates } = await server.get<{ dates: { date: string }[] }>('/api/v1/experience/14/dates')
    const r = await runExample(['14', '--days', '60'], { OCTO_API_KEY: KEY })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Product 14 \(Asia\/Singapore\), option DEFAULT, units: ADULT_12~99 \[ADULT\], CHILD_3~11 \[CHILD\]/)
    const available = [...r.stdout.matchAll(/^ {2}(\d{4}-\d{2}-\d{2}) {2}AVAILABLE .* from SGD \d+\.\d{2} /gm)].map((m) => m[1])
    expect(available).toEqual(dates.map((d) => d.date))
    expect(r.stdout).toContain(`Slots on ${dates[0]!.date}:`)
    expect(r.stdout).toMatch(new RegExp(`^ {2}${dates[0]!.date}T\\d{2}:\\d{2}:00\\+08:00 {2}(AVAILABLE|SOLD_OUT)`, 'm'))
  })

  it('the example says what is wrong: a wrong key (exit 1), no key (exit 2)', async () => {
    const wrong = await runExample(['14'], { OCTO_API_KEY: 'nope' })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/^error UNAUTHORIZED 401: /)
    const none = await runExample(['14'], {})
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/OCTO_API_KEY/)
    const unknown = await runExample(['999999'], { OCTO_API_KEY: KEY })
    expect(unknown.stderr).toMatch(/^error INVALID_PRODUCT_ID 400: /)
  })

  it('never wrote a key to its logs (request logging on)', () => {
    const out = server.process.output()
    expect(out).toMatch(/\/octo\//)
    expect(out).not.toContain(KEY)
    expect(out).not.toContain('another-key')
  })
})

describe('a running server without OCTO_API_KEYS', () => {
  let plain: LiveServer
  beforeAll(async () => {
    plain = await startLiveServer({ env: { SYNC_ENABLED: 'false' } })
  }, 60_000)
  afterAll(async () => plain?.stop())

  it('answers 404 on every /octo/* route', async () => {
    for (const [method, path] of [
      ['GET', '/octo/supplier'],
      ['GET', '/octo/products'],
      ['GET', '/octo/products/14'],
      ['POST', '/octo/availability/calendar'],
      ['POST', '/octo/availability'],
    ]) {
      const res = await fetch(`${plain.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: '{}' } : {}),
      })
      expect(res.status, path).toBe(404)
    }
  })
})

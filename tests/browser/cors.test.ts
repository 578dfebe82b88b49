import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { build } from 'esbuild'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, createTestApi, type TestApi } from '../helpers/api.ts'
import { ROOT } from '../helpers/process.ts'

/**
 * CORS as a browser meets it: Debian's chromium loads a page from another
 * origin (another port), and the page calls the API through the SDK (bundled
 * for the browser from sdk/src) and plain fetch / EventSource. The API
 * allows one page origin (CORS_ORIGINS); the other page is refused.
 */
const CHROMIUM = '/usr/bin/chromium'

const PAGE = `<!doctype html><meta charset="utf-8"><title>cors</title>
<script type="module">
import { createSlotsyncClient } from '/sdk.js'
window.callApi = async (api, token) => {
  const out = {}
  const client = createSlotsyncClient({ url: api, adminToken: token })
  // An admin mutation: Authorization and Content-Type make the browser send a preflight first.
  try {
    out.pause = await client.sync.pause.mutate({ productId: 14 })
  } catch (e) {
    out.pauseError = String(e?.code ?? e)
  }
  try {
    out.status = (await client.sync.status.query()).paused
  } catch (e) {
    out.statusError = String(e?.code ?? e)
  }
  try {
    const r = await fetch(api + '/api/v1/audit?limit=1', { headers: { authorization: 'Bearer ' + token, 'x-request-id': 'from-the-page' } })
    out.audit = { status: r.status, requestId: r.headers.get('x-request-id'), actions: (await r.json()).actions.length }
  } catch (e) {
    out.auditError = String(e)
  }
  // The change feed (SSE): open only if the stream's answer allows this origin.
  out.changes = await new Promise((resolve) => {
    const es = new EventSource(api + '/api/v1/changes')
    es.onopen = () => { es.close(); resolve('open') }
    es.onerror = () => { es.close(); resolve('refused') }
  })
  return out
}
window.ready = true
</script>`

let sdkBundle: string
let api: TestApi
let browser: Browser
const pages: http.Server[] = []
let allowedOrigin = ''
let otherOrigin = ''

async function servePage(): Promise<string> {
  const server = http.createServer((req, res) => {
    if (req.url === '/sdk.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdkBundle)
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  pages.push(server)
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`The browser test needs Debian's chromium at ${CHROMIUM}: run \`apt-get install -y chromium\`.`)
  const bundle = await build({ entryPoints: [`${ROOT}/sdk/src/index.ts`], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false })
  sdkBundle = bundle.outputFiles[0]!.text
  allowedOrigin = await servePage()
  otherOrigin = await servePage()
  api = await createTestApi({ corsOrigins: [allowedOrigin] })
  await api.listen()
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await api?.close()
  for (const s of pages) await new Promise((r) => s.close(r))
})

async function callFrom(origin: string): Promise<Record<string, unknown>> {
  const page = await browser.newPage()
  try {
    await page.goto(`${origin}/`)
    await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true)
    return await page.evaluate(
      ([url, token]) => (globalThis as unknown as { callApi(u: string, t: string): Promise<Record<string, unknown>> }).callApi(url!, token!),
      [api.url, ADMIN_TOKEN],
    )
  } finally {
    await page.close()
  }
}

const auditCount = async () => (await api.db.prisma.adminAction.count()) as number

describe('a page on a listed origin (CORS_ORIGINS)', () => {
  it('calls the API through the SDK, REST and the change feed, and reads x-request-id', async () => {
    const before = await auditCount()
    const out = await callFrom(allowedOrigin)
    expect(out).toMatchObject({ pause: { paused: true, productId: 14 }, status: expect.any(Boolean), changes: 'open' })
    expect(out.pauseError).toBeUndefined()
    // Exposed to the page's script; its own x-request-id was allowed through the preflight but not taken (no trusted proxy).
    expect(out.audit).toMatchObject({ status: 200, actions: 1 })
    expect((out.audit as { requestId: string }).requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(await auditCount()).toBe(before + 1)
  })
})

describe('a page on any other origin', () => {
  it('is refused by the browser: the preflighted admin call never reaches the API, no answer is readable, no stream opens', async () => {
    const before = await auditCount()
    const out = await callFrom(otherOrigin)
    expect(out.pause).toBeUndefined()
    expect(out.pauseError).toBeDefined()
    expect(out.status).toBeUndefined()
    expect(out.auditError).toMatch(/Failed to fetch/)
    expect(out.changes).toBe('refused')
    expect(await auditCount()).toBe(before)
  })
})

describe('the preflight itself', () => {
  const preflight = (app: TestApi, origin: string) =>
    app.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/sync/pause',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    })

  it('answers 204 with the allowed methods and headers for a listed origin', async () => {
    const r = await preflight(api, allowedOrigin)
    expect(r.statusCode).toBe(204)
    expect(r.headers['access-control-allow-origin']).toBe(allowedOrigin)
    expect(String(r.headers['access-control-allow-methods']).split(', ')).toEqual(['GET', 'HEAD', 'POST', 'PUT', 'DELETE'])
    expect(String(r.headers['access-control-allow-headers']).split(', ')).toEqual(['authorization', 'content-type', 'x-request-id', 'last-event-id'])
    expect(r.headers.vary).toMatch(/Origin/)
  })

  it('allows nothing to another origin, and exposes x-request-id and Retry-After on real answers', async () => {
    const r = await preflight(api, otherOrigin)
    expect(r.statusCode).toBe(404)
    expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([])
    const get = await api.app.inject({ url: '/trpc/sync.status', headers: { origin: allowedOrigin } })
    expect(get.headers['access-control-allow-origin']).toBe(allowedOrigin)
    expect(get.headers['access-control-expose-headers']).toBe('x-request-id, retry-after')
  })

  it('without CORS_ORIGINS, no origin gets anything', async () => {
    const plain = await createTestApi({ db: api.db })
    try {
      const r = await preflight(plain, allowedOrigin)
      expect(r.headers['access-control-allow-origin']).toBeUndefined()
      expect(r.statusCode).toBe(404)
    } finally {
      await plain.close()
    }
  })
})

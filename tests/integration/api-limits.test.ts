import net from 'node:net'
import { createTRPCClient, httpBatchLink } from '@trpc/client'
import superjson from 'superjson'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppRouter } from '../../server/api/routers/index.ts'
import { MAX_PARAM_LENGTH } from '../../server/http.ts'
import { createTestApi, seedDay, type TestApi } from '../helpers/api.ts'
import { rawSlot } from '../helpers/partner-data.ts'

const NOW = Date.parse('2026-12-01T00:00:00Z')
const PRODUCTS = Array.from({ length: 18 }, (_, i) => i + 1)

let api: TestApi
beforeAll(async () => {
  api = await createTestApi({ now: NOW })
  await api.listen()
  await api.db.prisma.product.createMany({ data: PRODUCTS.map((id) => ({ id })) })
  await seedDay(api.db, 7, '2026-12-03', [rawSlot('2026-12-03', '10:00')], new Date(NOW))
})
afterAll(async () => api?.close())

/** One raw request on its own socket: for requests fetch() refuses to send. */
function rawRequest(head: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(api.url)
    const socket = net.connect(Number(url.port), url.hostname, () => socket.write(head))
    let data = ''
    socket.on('data', (d) => (data += d))
    socket.on('error', reject)
    socket.on('close', () => {
      const [headers = '', body = ''] = data.split('\r\n\r\n')
      resolve({ status: Number(headers.split(' ')[1]), body })
    })
  })
}

describe('HTTP limits', () => {
  it('serves a 20-procedure tRPC batch (httpBatchLink) in one request', async () => {
    const urls: string[] = []
    const client = createTRPCClient<AppRouter>({
      links: [
        httpBatchLink({
          url: `${api.url}/trpc`,
          transformer: superjson,
          fetch: (url, init) => {
            urls.push(String(url))
            return fetch(url, init)
          },
        }),
      ],
    })
    const results = await Promise.all([
      ...PRODUCTS.map((productId) => client.availability.dates.query({ productId })),
      client.health.live.query(),
      client.sync.status.query(),
    ])
    expect(urls).toHaveLength(1)
    expect(new URL(urls[0]!).pathname.split(',')).toHaveLength(20)
    expect(new URL(urls[0]!).pathname.length).toBeGreaterThan(100) // Fastify's default limit, which this used to break
    const dates = results.slice(0, 18) as { dates: { date: string }[] }[]
    expect(dates[6]!.dates.map((d) => d.date)).toEqual(['2026-12-03'])
    expect(dates.filter((_, i) => i !== 6).every((d) => d.dates.length === 0)).toBe(true)
    expect(results[18]).toEqual({ ok: true })
    expect(results[19]).toMatchObject({ budget: { limitPerMinute: 30 } })
  })

  it('answers a path segment over the limit with 414 in the standard error shape', async () => {
    const res = await fetch(`${api.url}/trpc/${'health.live,'.repeat(Math.ceil(MAX_PARAM_LENGTH / 12) + 1)}health.live`)
    expect(res.status).toBe(414)
    const body = await res.json()
    expect(body).toEqual({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/path too long/) } })
  })

  it('answers a malformed percent-encoding in the path with 400 in the standard error shape', async () => {
    const res = await fetch(`${api.url}/api/v1/experience/%E0%A4%A/dates`)
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: { code: 'BAD_REQUEST', message: 'malformed request URL' } })
  })

  it("answers a request head over Node's 16 KiB limit with 431 in the standard error shape", async () => {
    const r = await rawRequest(`GET /api/v1/experience/14/dates?pad=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)
    expect(r.status).toBe(431)
    expect(JSON.parse(r.body)).toEqual({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/16 KiB/) } })
  })

  it('answers a malformed request line with 400 in the standard error shape', async () => {
    const r = await rawRequest('NOT HTTP AT ALL\r\n\r\n')
    expect(r.status).toBe(400)
    expect(JSON.parse(r.body)).toEqual({ error: { code: 'BAD_REQUEST', message: 'malformed HTTP request' } })
  })
})

describe('TRUST_PROXY', () => {
  async function hits(trustProxy: boolean, forwardedFor: string[]): Promise<number[]> {
    const proxied = await createTestApi({ db: api.db, now: NOW, rateLimitPerMinute: 2, trustProxy })
    try {
      await proxied.listen()
      const out: number[] = []
      for (const ip of forwardedFor) out.push((await fetch(`${proxied.url}/api/v1/experience/7/dates`, { headers: { 'x-forwarded-for': ip } })).status)
      return out
    } finally {
      await proxied.app.close()
    }
  }

  it('on: each client behind the proxy has its own rate-limit bucket (X-Forwarded-For)', async () => {
    expect(await hits(true, ['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.2'])).toEqual([200, 200, 429, 200])
  })

  it('off: every request through the proxy shares one bucket', async () => {
    expect(await hits(false, ['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.2'])).toEqual([200, 200, 429, 429])
  })
})

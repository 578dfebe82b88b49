import type http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestIdGenerator } from '../../server/http.ts'
import { createTestApi, type TestApi } from '../helpers/api.ts'

const fakeRequest = (peer: string, id?: string) =>
  ({ headers: id === undefined ? {} : { 'x-request-id': id }, socket: { remoteAddress: peer } }) as unknown as http.IncomingMessage
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe('requestIdGenerator (TRUST_PROXY decides whose x-request-id is kept)', () => {
  it('keeps the id a trusted proxy sends', () => {
    expect(requestIdGenerator(['10.0.0.0/8'])(fakeRequest('10.1.2.3', 'lb-42'))).toBe('lb-42')
    expect(requestIdGenerator(true)(fakeRequest('203.0.113.9', 'lb-42'))).toBe('lb-42')
    expect(requestIdGenerator(['loopback'])(fakeRequest('::ffff:127.0.0.1', 'lb-42'))).toBe('lb-42')
  })

  it('makes a new one for anyone else, and when TRUST_PROXY is off or a hop count (which cannot vouch for the peer)', () => {
    expect(requestIdGenerator(['10.0.0.0/8'])(fakeRequest('203.0.113.9', 'spoofed'))).toMatch(UUID)
    expect(requestIdGenerator(false)(fakeRequest('10.1.2.3', 'spoofed'))).toMatch(UUID)
    expect(requestIdGenerator(2)(fakeRequest('10.1.2.3', 'spoofed'))).toMatch(UUID)
  })

  it('refuses an id shaped to forge log fields, even from a trusted proxy', () => {
    const gen = requestIdGenerator(true)
    for (const bad of ['', 'a b', 'x"y', 'x\ny', 'x'.repeat(129)]) expect(gen(fakeRequest('10.1.2.3', bad))).toMatch(UUID)
  })

  it('generated ids differ', () => {
    const gen = requestIdGenerator(false)
    expect(gen(fakeRequest('127.0.0.1'))).not.toBe(gen(fakeRequest('127.0.0.1')))
  })
})

describe('x-request-id on every answer', () => {
  let direct: TestApi
  let behindProxy: TestApi
  beforeAll(async () => {
    direct = await createTestApi()
    behindProxy = await createTestApi({ db: direct.db, trustProxy: ['127.0.0.1'] })
  })
  afterAll(async () => {
    await behindProxy?.close()
    await direct?.close()
  })

  it.each([
    ['a read', '/api/v1/sync/status', 200],
    ['bad input', '/api/v1/experience/abc/dates', 400],
    ['an unknown route', '/nope', 404],
    ['a refused admin call', '/api/v1/products', 401],
    ['a probe', '/health', 200],
    ['tRPC', '/trpc/sync.status', 200],
  ])('%s (%s) answers one, new each time', async (_what, url, status) => {
    const a = await direct.app.inject({ url })
    const b = await direct.app.inject({ url })
    expect(a.statusCode).toBe(status)
    expect(a.headers['x-request-id']).toMatch(UUID)
    expect(b.headers['x-request-id']).not.toBe(a.headers['x-request-id'])
  })

  it("a client's own x-request-id is not taken unless it comes through a trusted proxy", async () => {
    const spoof = await direct.app.inject({ url: '/health', headers: { 'x-request-id': 'chosen-by-client' } })
    expect(spoof.headers['x-request-id']).toMatch(UUID)
    const proxied = await behindProxy.app.inject({ url: '/health', headers: { 'x-request-id': 'from-the-proxy' } })
    expect(proxied.headers['x-request-id']).toBe('from-the-proxy')
  })
})

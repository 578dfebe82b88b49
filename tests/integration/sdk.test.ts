import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import type { AppRouter as ServerRouter } from '../../server/api/routers/index.ts'
import {
  createSlotsyncClient,
  SlotsyncError,
  type FetchLike,
  type RouterInputs,
  type RouterOutputs,
  type SlotsResult,
  type SyncStatus,
  type TierName as SdkTierName,
} from '../../sdk/src/index.ts'
import { parseRetryAfter } from '../../sdk/src/errors.ts'
import { delayFor, retryPolicy } from '../../sdk/src/retry.ts'
import { startLiveServer, type LiveServer } from '../helpers/server.ts'
import type { TierName } from '../../server/sync/tiers.ts'

// The SDK from source against the real service (embedded Postgres, sandbox).
// sdk-package.test.ts checks the built and packed artefact.
let server: LiveServer
let openDate: string

beforeAll(async () => {
  server = await startLiveServer()
  // Frozen data: the two faces compared below must not see a refetch in between.
  await server.freeze()
  const { dates } = await server.get<{ dates: { date: string }[] }>('/api/v1/experience/14/dates')
  openDate = dates[0]!.date
}, 60_000)
afterAll(async () => server?.stop())

async function rejection(p: Promise<unknown>): Promise<SlotsyncError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof SlotsyncError)) throw new Error(`expected a SlotsyncError, got ${String(err)}`)
  return err
}

/** Real fetch to the live server, counted, with failures injected per call number (1-based). */
function scriptedFetch(script: Record<number, 'network' | Response>) {
  const calls: { url: string; headers: Record<string, string> }[] = []
  const f: FetchLike = async (url, init) => {
    calls.push({ url, headers: Object.fromEntries(new Headers(init?.headers)) })
    const step = script[calls.length]
    if (step === 'network') throw new TypeError('fetch failed')
    if (step) return step
    return fetch(url, init)
  }
  return { fetch: f, calls }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })

describe('types', () => {
  // Text-level freshness of the generated type is checked by `npm run build:sdk`
  // (sdk-package.test.ts); this is the semantic check, by tsc in `npm test`.
  it('carries every procedure input and output of the server router (checked by tsc)', () => {
    expectTypeOf<RouterInputs>().toEqualTypeOf<inferRouterInputs<ServerRouter>>()
    expectTypeOf<RouterOutputs>().toEqualTypeOf<inferRouterOutputs<ServerRouter>>()
    const client = createSlotsyncClient({ url: 'http://127.0.0.1:1' })
    expectTypeOf(client.availability.slots.query).parameter(0).toEqualTypeOf<{ productId: number; date: string; maxAgeS?: number | undefined }>()
    expectTypeOf(client.availability.slots.query).returns.resolves.toEqualTypeOf<SlotsResult>()
    expectTypeOf(client.sync.status.query).returns.resolves.toEqualTypeOf<SyncStatus>()
    // The tiers are keyed by the engine's tier names, not by any string.
    expectTypeOf<keyof SyncStatus['tiers']>().toEqualTypeOf<TierName>()
    expectTypeOf<SdkTierName>().toEqualTypeOf<TierName>()
    // Never called: only for the compiler.
    const misuse = () => {
      // @ts-expect-error productId is a number
      void client.availability.slots.query({ productId: '14', date: '2026-12-01' })
      // @ts-expect-error a query has no mutate
      void client.availability.dates.mutate({ productId: 14 })
      // @ts-expect-error unknown procedure
      void client.sync.restart.mutate()
    }
    expect(typeof misuse).toBe('function')
  })
})

describe('calls against the live server', () => {
  const client = () => createSlotsyncClient({ url: server.url })

  it('answers availability.dates and availability.slots exactly as the REST face does', async () => {
    const rest = await server.get('/api/v1/experience/14/dates')
    expect(await client().availability.dates.query({ productId: 14 })).toEqual(rest)
    const slots = await client().availability.slots.query({ productId: 14, date: openDate })
    expect(slots).toEqual(await server.get(`/api/v1/experience/14/slots?date=${openDate}`))
    expect(slots.slots.length).toBeGreaterThan(0)
    expect(slots.freshness.state).not.toBe('never')
  })

  it('accepts the base URL with a trailing slash or already ending in /trpc', async () => {
    for (const url of [`${server.url}/`, `${server.url}/trpc`, new URL(server.url)]) {
      expect(await createSlotsyncClient({ url }).health.live.query()).toEqual({ ok: true })
    }
  })

  it('turns bad input into BAD_REQUEST naming the field, with the HTTP status', async () => {
    const err = await rejection(client().availability.slots.query({ productId: 14, date: '2026-02-30' }))
    expect(err).toMatchObject({ code: 'BAD_REQUEST', status: 400, field: 'date', path: 'availability.slots', retryable: false })
    expect(err.message).toMatch(/date/)
    const typo = await rejection(createSlotsyncClient({ url: server.url, adminToken: server.adminToken }).sync.pause.mutate({ productID: 14 } as never))
    expect(typo).toMatchObject({ code: 'BAD_REQUEST', field: 'productID' })
  })

  it('turns an unknown product into NOT_FOUND', async () => {
    expect(await rejection(client().availability.dates.query({ productId: 424242 }))).toMatchObject({ code: 'NOT_FOUND', status: 404 })
  })

  it('refuses admin procedures without the token or with a wrong one, and runs them with it', async () => {
    expect(await rejection(client().sync.resume.mutate())).toMatchObject({ code: 'UNAUTHORIZED', status: 401, path: 'sync.resume' })
    const wrong = createSlotsyncClient({ url: server.url, adminToken: 'not-the-token' })
    expect(await rejection(wrong.sync.run.mutate({ productId: 14 }))).toMatchObject({ code: 'UNAUTHORIZED' })
    expect((await server.get<{ paused: boolean }>('/api/v1/sync/status')).paused).toBe(true)

    const admin = createSlotsyncClient({ url: server.url, adminToken: server.adminToken })
    expect(await admin.sync.resume.mutate()).toMatchObject({ paused: false })
    expect((await admin.sync.status.query()).paused).toBe(false)
    expect(await admin.sync.pause.mutate({})).toMatchObject({ paused: true })
    expect((await server.get<{ paused: boolean }>('/api/v1/sync/status')).paused).toBe(true)
  })

  it('sends extra headers, and the admin token over any Authorization among them', async () => {
    const { fetch: f, calls } = scriptedFetch({})
    const admin = createSlotsyncClient({
      url: server.url,
      adminToken: server.adminToken,
      fetch: f,
      headers: () => ({ 'x-request-id': 'abc', Authorization: 'Bearer stale' }),
    })
    expect(await admin.sync.pause.mutate()).toMatchObject({ paused: true })
    expect(calls[0]!.headers).toMatchObject({ 'x-request-id': 'abc', authorization: `Bearer ${server.adminToken}` })
  })

  it('rejects with NETWORK_ERROR when nothing answers, and ABORTED when the signal fires', async () => {
    const down = createSlotsyncClient({ url: 'http://127.0.0.1:1' })
    expect(await rejection(down.health.live.query())).toMatchObject({ code: 'NETWORK_ERROR', status: undefined, retryable: true })
    const ac = new AbortController()
    ac.abort()
    expect(await rejection(client().health.live.query(undefined, { signal: ac.signal }))).toMatchObject({ code: 'ABORTED' })
  })

  it('maps replies that are not slotsync JSON by their status (a proxy, the HTTP rate limiter)', async () => {
    const html = createSlotsyncClient({
      url: server.url,
      fetch: async () => new Response('<h1>502 Bad Gateway</h1>', { status: 502, headers: { 'content-type': 'text/html' } }),
    })
    expect(await rejection(html.health.live.query())).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 502, retryable: true })
    // What the API's rate limiter sends (REST error body, Retry-After).
    const limited = createSlotsyncClient({
      url: server.url,
      fetch: async () => json(429, { error: { code: 'TOO_MANY_REQUESTS', message: 'Rate limit exceeded, retry in 1 minute' } }, { 'retry-after': '60' }),
    })
    const err = await rejection(limited.health.live.query())
    expect(err).toMatchObject({ code: 'TOO_MANY_REQUESTS', status: 429, retryAfterMs: 60_000 })
    expect(err.message).toContain('Rate limit exceeded')
  })

  it('throws TypeError for options that cannot work, before any call', () => {
    expect(() => createSlotsyncClient({ url: 'not a url' })).toThrow(TypeError)
    expect(() => createSlotsyncClient({ url: 'ftp://host' })).toThrow(/http/)
    expect(() => createSlotsyncClient({ url: server.url, retry: { retries: -1 } })).toThrow(/retries/)
  })
})

describe('retry', () => {
  const fast = { retries: 2, minDelayMs: 5, maxDelayMs: 50 }

  it('is off by default: one failure, one call', async () => {
    const s = scriptedFetch({ 1: 'network' })
    expect(await rejection(createSlotsyncClient({ url: server.url, fetch: s.fetch }).health.live.query())).toMatchObject({ code: 'NETWORK_ERROR' })
    expect(s.calls).toHaveLength(1)
  })

  it('retries a query after network errors and 503, then succeeds', async () => {
    const s = scriptedFetch({ 1: 'network', 2: json(503, { error: { code: 'SERVICE_UNAVAILABLE', message: 'db down' } }) })
    const c = createSlotsyncClient({ url: server.url, fetch: s.fetch, retry: fast })
    expect(await c.availability.dates.query({ productId: 14 })).toEqual(await server.get('/api/v1/experience/14/dates'))
    expect(s.calls).toHaveLength(3)
  })

  it('gives up after `retries` more attempts with the last error', async () => {
    const s = scriptedFetch({ 1: 'network', 2: 'network', 3: 'network', 4: 'network' })
    const err = await rejection(createSlotsyncClient({ url: server.url, fetch: s.fetch, retry: fast }).health.live.query())
    expect(err.code).toBe('NETWORK_ERROR')
    expect(s.calls).toHaveLength(3)
  })

  it('never retries a mutation, nor an error that would repeat', async () => {
    const s = scriptedFetch({ 1: 'network' })
    const admin = createSlotsyncClient({ url: server.url, adminToken: server.adminToken, fetch: s.fetch, retry: fast })
    expect(await rejection(admin.sync.run.mutate({ productId: 14 }))).toMatchObject({ code: 'NETWORK_ERROR' })
    expect(s.calls).toHaveLength(1)
    const bad = scriptedFetch({})
    const c = createSlotsyncClient({ url: server.url, fetch: bad.fetch, retry: fast })
    expect(await rejection(c.availability.slots.query({ productId: 14, date: '1999-01-01' }))).toMatchObject({ code: 'BAD_REQUEST' })
    expect(bad.calls).toHaveLength(1)
  })

  it("waits the server's Retry-After when within maxDelayMs", async () => {
    const s = scriptedFetch({ 1: json(429, { error: { code: 'TOO_MANY_REQUESTS', message: 'slow down' } }, { 'retry-after': '1' }) })
    const c = createSlotsyncClient({ url: server.url, fetch: s.fetch, retry: { retries: 1, minDelayMs: 1, maxDelayMs: 2000 } })
    const t0 = Date.now()
    expect(await c.health.live.query()).toEqual({ ok: true })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950)
    expect(s.calls).toHaveLength(2)
  })

  it('stops waiting with ABORTED when the signal fires during a backoff', async () => {
    const s = scriptedFetch({ 1: 'network' })
    const c = createSlotsyncClient({ url: server.url, fetch: s.fetch, retry: { retries: 3, minDelayMs: 10_000, maxDelayMs: 10_000 } })
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 50)
    const t0 = Date.now()
    expect(await rejection(c.health.live.query(undefined, { signal: ac.signal }))).toMatchObject({ code: 'ABORTED' })
    expect(Date.now() - t0).toBeLessThan(2000)
    expect(s.calls).toHaveLength(1)
  })

  it('backs off exponentially with jitter, capped; Retry-After above the cap falls back to backoff', () => {
    const p = retryPolicy({ retries: 5, minDelayMs: 100, maxDelayMs: 1000 })
    const err = new SlotsyncError('x', { code: 'NETWORK_ERROR' })
    expect([0, 1, 2, 3, 4].map((a) => delayFor(a, p, err, () => 0))).toEqual([50, 100, 200, 400, 500])
    expect([0, 1, 2, 3, 4].map((a) => delayFor(a, p, err, () => 1))).toEqual([100, 200, 400, 800, 1000])
    const later = new SlotsyncError('x', { code: 'TOO_MANY_REQUESTS', status: 429, retryAfterMs: 60_000 })
    expect(delayFor(0, p, later, () => 1)).toBe(100)
    expect(retryPolicy(true)).toEqual({ retries: 2, minDelayMs: 250, maxDelayMs: 5000 })
    expect(retryPolicy(undefined).retries).toBe(0)
  })

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000)
    expect(parseRetryAfter('0.5')).toBe(500)
    const now = Date.parse('2026-12-01T00:00:00Z')
    expect(parseRetryAfter('Tue, 01 Dec 2026 00:00:03 GMT', now)).toBe(3000)
    expect(parseRetryAfter('soon')).toBeUndefined()
    expect(parseRetryAfter(null)).toBeUndefined()
  })
})

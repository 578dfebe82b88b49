import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client'
import superjson from 'superjson'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { AppRouter } from '../../server/api/routers/index.ts'
import { syncStateSchema, syncStatusSchema } from '../../server/api/sync-schemas.ts'
import { ADMIN_TOKEN, createTestApi, fakeSyncService, type SyncCall, type TestApi } from '../helpers/api.ts'

// The sync procedures over a SyncService test double: this file pins the
// router's shape, auth and input rules on both faces, not the engine's
// behaviour (the sync engine's own tests run the real service).
let api: TestApi
let base: string
let calls: SyncCall[]
const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` }

beforeAll(async () => {
  const fake = fakeSyncService()
  calls = fake.calls
  api = await createTestApi({ sync: fake.service })
  base = await api.listen()
})
afterAll(async () => api?.close())
beforeEach(() => {
  calls.length = 0
})

async function post(path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const res = await fetch(base + path, { method: 'POST', ...init })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

const trpc = (headers: Record<string, string> = {}) =>
  createTRPCClient<AppRouter>({ links: [httpLink({ url: `${base}/trpc`, transformer: superjson, headers })] })

async function trpcError(p: Promise<unknown>) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(TRPCClientError)
  return err as TRPCClientError<AppRouter>
}

const MUTATIONS = ['pause', 'resume', 'run'] as const

describe('auth: sync mutations need the admin bearer token', () => {
  it.each(MUTATIONS)('REST %s answers 401 without a token, with a wrong one, or with another scheme', async (m) => {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer wrong' },
      { authorization: `Bearer ${ADMIN_TOKEN}x` },
      { authorization: `Basic ${ADMIN_TOKEN}` },
      { authorization: ADMIN_TOKEN },
      { authorization: 'Bearer ' },
    ]) {
      const r = await post(`/api/v1/sync/${m}`, { headers })
      expect(r.status).toBe(401)
      expect(r.body).toEqual({ error: { code: 'UNAUTHORIZED', message: 'a valid admin bearer token is required' } })
    }
    expect(calls).toEqual([])
  })

  it.each(MUTATIONS)('tRPC %s answers 401 without a token or with a wrong one', async (m) => {
    for (const client of [trpc(), trpc({ authorization: 'Bearer wrong' })]) {
      const err = await trpcError(client.sync[m].mutate())
      expect(err.data?.httpStatus).toBe(401)
      expect(err.data?.code).toBe('UNAUTHORIZED')
      expect(err.message).toBe('a valid admin bearer token is required')
    }
    expect(calls).toEqual([])
  })

  it('checks the token before the input: a bad body without a token is still 401', async () => {
    expect((await post('/api/v1/sync/pause', { body: '{"productId":"x"}', headers: { 'content-type': 'application/json' } })).status).toBe(401)
    expect((await post('/api/v1/sync/run', { body: 'not json', headers: { 'content-type': 'application/json' } })).status).toBe(400) // body parsing comes first on REST
  })

  it('accepts the scheme in any case', async () => {
    expect((await post('/api/v1/sync/pause', { headers: { authorization: `bearer ${ADMIN_TOKEN}` } })).status).toBe(200)
  })

  it('leaves status public', async () => {
    expect((await fetch(`${base}/api/v1/sync/status`)).status).toBe(200)
    expect((await trpc().sync.status.query()).queue).toBe(0)
  })
})

describe('forgiving bodies: none, empty, {} all mean everything', () => {
  it.each([
    ['no body', {}],
    ['an empty body with a JSON content type', { body: '', headers: { 'content-type': 'application/json' } }],
    ['whitespace with a JSON content type', { body: ' \n', headers: { 'content-type': 'application/json' } }],
    ['{}', { body: '{}', headers: { 'content-type': 'application/json' } }],
    ['{} without a content type', { body: '{}' }],
    ['{} sent as text/plain', { body: '{}', headers: { 'content-type': 'text/plain' } }],
    ['null', { body: 'null', headers: { 'content-type': 'application/json' } }],
  ])('pause with %s', async (_name, init: { body?: string; headers?: Record<string, string> }) => {
    const r = await post('/api/v1/sync/pause', { ...init, headers: { ...init.headers, ...AUTH } })
    expect(r.status).toBe(200)
    expect(syncStateSchema.parse(r.body)).toEqual(r.body)
    expect(r.body.paused).toBe(true)
    expect(calls).toEqual([{ method: 'pause', arg: undefined }])
  })

  it('pauses and resumes one product with { "productId": 14 }', async () => {
    const json = { 'content-type': 'application/json', ...AUTH }
    expect((await post('/api/v1/sync/pause', { body: '{"productId":14}', headers: json })).body).toMatchObject({ productId: 14, pausedProducts: [14] })
    expect((await post('/api/v1/sync/resume', { body: '{"productId":14}', headers: json })).body).toMatchObject({ productId: 14, pausedProducts: [] })
    expect(calls).toEqual([
      { method: 'pause', arg: 14 },
      { method: 'resume', arg: 14 },
    ])
  })

  it('run forwards productId, from and to, and answers { queued }', async () => {
    const json = { 'content-type': 'application/json', ...AUTH }
    expect((await post('/api/v1/sync/run', { headers: AUTH })).body).toEqual({ queued: 120 })
    expect((await post('/api/v1/sync/run', { body: '{"productId":14,"from":"2026-12-01","to":"2026-12-07"}', headers: json })).body).toEqual({ queued: 60 })
    expect(calls).toEqual([
      { method: 'run', arg: {} },
      { method: 'run', arg: { productId: 14, from: '2026-12-01', to: '2026-12-07' } },
    ])
  })
})

describe('bad bodies answer 400 naming the field', () => {
  const json = { 'content-type': 'application/json', ...AUTH }
  it.each([
    ['pause', '{"productId":', 'body', 'body: is not valid JSON'],
    ['pause', 'productId=14', 'body', 'body: is not valid JSON'],
    ['pause', '[]', 'body', 'body: must be a JSON object'],
    ['pause', '"14"', 'body', 'body: must be a JSON object'],
    ['pause', '{"productId":"14"}', 'productId', 'productId: must be a positive integer (1 to 2147483647)'],
    ['pause', '{"productId":0}', 'productId', 'productId: must be a positive integer (1 to 2147483647)'],
    ['pause', '{"productId":1.5}', 'productId', 'productId: must be a positive integer (1 to 2147483647)'],
    ['pause', '{"productId":1e400}', 'productId', 'productId: must be a positive integer (1 to 2147483647)'],
    ['resume', '{"productID":14}', 'productID', 'productID: is not a known field'],
    ['run', '{"from":"2026-02-30"}', 'from', 'from: is not a real calendar day'],
    ['run', '{"to":"soon"}', 'to', 'to: must be a date written YYYY-MM-DD'],
    ['run', '{"from":"2026-12-07","to":"2026-12-01"}', 'to', 'to: must not be before from'],
    ['run', '{"productId":-1}', 'productId', 'productId: must be a positive integer (1 to 2147483647)'],
  ])('%s %s → 400 %s', async (m, body, field, message) => {
    const r = await post(`/api/v1/sync/${m}`, { body, headers: json })
    expect(r.status).toBe(400)
    expect(r.body).toEqual({ error: { code: 'BAD_REQUEST', message, field } })
    expect(calls).toEqual([])
  })

  it('refuses a body over 16 KiB with 413, not 500', async () => {
    const r = await post('/api/v1/sync/pause', { body: JSON.stringify({ productId: 14, pad: 'x'.repeat(20_000) }), headers: json })
    expect(r.status).toBe(413)
    expect(r.body.error.code).toBe('BAD_REQUEST')
  })

  it('the tRPC face words the same errors the same way', async () => {
    const client = trpc(AUTH)
    const err = await trpcError(client.sync.run.mutate({ from: '2026-12-07', to: '2026-12-01' }))
    expect(err.data?.httpStatus).toBe(400)
    expect(err.message).toBe('to: must not be before from')
    expect(err.data).toMatchObject({ appCode: 'BAD_REQUEST', field: 'to' })
    const bad = await trpcError(client.sync.pause.mutate({ productId: 0 }))
    expect(bad.message).toBe('productId: must be a positive integer (1 to 2147483647)')
    expect(calls).toEqual([])
  })
})

describe('both faces return the same objects', () => {
  it('pause, resume, run and status', async () => {
    const client = trpc(AUTH)
    const json = { 'content-type': 'application/json', ...AUTH }
    expect(await client.sync.pause.mutate({ productId: 15 })).toEqual((await post('/api/v1/sync/pause', { body: '{"productId":15}', headers: json })).body)
    expect(await client.sync.resume.mutate()).toEqual((await post('/api/v1/sync/resume', { headers: AUTH })).body)
    expect(await client.sync.run.mutate({ productId: 14 })).toEqual((await post('/api/v1/sync/run', { body: '{"productId":14}', headers: json })).body)
    const rest = await (await fetch(`${base}/api/v1/sync/status`)).json()
    expect(await client.sync.status.query()).toEqual(rest)
    expect(syncStatusSchema.parse(rest)).toEqual(rest)
  })
})

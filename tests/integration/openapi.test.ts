import { Validator } from '@seriousme/openapi-schema-validator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pkg from '../../package.json' with { type: 'json' }
import { loadConfig } from '../../server/config.ts'
import { createServer, type SlotsyncServer } from '../../server/server.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { captureLogStream } from '../helpers/reliability-server.ts'

// The OpenAPI document of the whole service as `npm start` composes it
// (createServer with the OCTO face and CORS on, real database and sandbox):
// valid by a standard validator, and describing every route the server
// registers, except the ones listed below.
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const

/** Registered routes the document leaves out on purpose, and why. */
const NOT_DOCUMENTED: { route: RegExp; why: string }[] = [
  { route: /^\/trpc\//, why: 'tRPC: described by the AppRouter type the SDK ships, not by OpenAPI' },
  { route: /^\/docs(\/|$)/, why: "Swagger UI's own page and static files" },
  { route: /^\/openapi\.json$/, why: 'the document itself' },
  { route: /^\/(dashboard\.(js|css))?$/, why: "the dashboard's static files" },
  { route: /^\/metrics$/, why: 'Prometheus text exposition for scrapers (README "Metrics"), not an API' },
  { route: /^\*$/, why: "@fastify/cors' preflight answer (OPTIONS *) for CORS_ORIGINS" },
]

type Operation = { operationId?: string; responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }
type Doc = {
  openapi: string
  info: { version: string }
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> }
}

let db: TestDatabase
let server: SlotsyncServer
let url: string
const registered: { method: string; url: string }[] = []
let doc: Doc

beforeAll(async () => {
  db = await createTestDatabase()
  const config = loadConfig({
    PORT: '0',
    DATABASE_URL: db.url,
    // The change feed LISTENs on Postgres itself: through PgBouncer (CI's pooled leg) db.url is the pooler.
    DATABASE_DIRECT_URL: db.directUrl,
    ADMIN_TOKEN: 'openapi-test-token',
    LOG_LEVEL: 'warn',
    SANDBOX_PRODUCTS: '0',
    SYNC_PRODUCT_IDS: '14',
    PARTNER_RATE_LIMIT_PER_MINUTE: '6000',
    SANDBOX_RATE_LIMIT_PER_MINUTE: '6000',
    OCTO_API_KEYS: 'octo-key',
    CORS_ORIGINS: 'https://shop.example',
  })
  server = createServer(config, { logStream: captureLogStream().stream })
  // Before start(): every route start() registers passes through this hook.
  server.app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) registered.push({ method: m.toLowerCase(), url: r.url })
  })
  ;({ url } = await server.start())
  doc = (await (await fetch(`${url}/openapi.json`)).json()) as Doc
}, 60_000)
afterAll(async () => {
  await server?.stop()
  await db?.drop()
})

const toOpenApiPath = (route: string) => route.replace(/:([A-Za-z_]\w*)/g, '{$1}')
const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => METHODS.filter((m) => ops[m]).map((m) => ({ path, method: m, op: ops[m]! })))

describe('the OpenAPI document (/openapi.json)', () => {
  it('is a valid OpenAPI document (@seriousme/openapi-schema-validator)', async () => {
    const res = await new Validator().validate(doc as unknown as Parameters<Validator['validate']>[0])
    expect(res.errors ?? []).toEqual([])
    expect(res.valid).toBe(true)
  })

  it("carries the package's version", () => {
    expect(doc.info.version).toBe(pkg.version)
  })

  it('names every operation, each name once', () => {
    const ids = operations().map((o) => o.op.operationId)
    expect(ids.filter((id) => !id)).toEqual([])
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.length).toBeGreaterThan(15)
  })

  it('documents every route the server registers, but the listed exclusions', () => {
    const documented = new Set(operations().map((o) => `${o.method} ${o.path}`))
    const routes = registered.filter((r) => r.method !== 'head' && r.method !== 'options')
    expect(routes.length).toBeGreaterThan(20)
    const missing = routes
      .filter((r) => !NOT_DOCUMENTED.some((x) => x.route.test(r.url)))
      .map((r) => `${r.method} ${toOpenApiPath(r.url)}`)
      .filter((key) => !documented.has(key))
    expect(missing).toEqual([])
    // Every exclusion still matches a route (a stale one would hide a new route).
    for (const x of NOT_DOCUMENTED)
      expect(
        registered.some((r) => x.route.test(r.url)),
        x.why,
      ).toBe(true)
    // And nothing is documented that the server does not answer.
    const served = new Set(routes.map((r) => `${r.method} ${toOpenApiPath(r.url)}`))
    expect([...documented].filter((d) => !served.has(d))).toEqual([])
  })

  it('describes /api/v1/changes as text/event-stream with its event name and data schema, as a real stream sends them', async () => {
    const ok = doc.paths['/api/v1/changes']!.get!.responses!['200']!
    expect(Object.keys(ok.content!)).toEqual(['text/event-stream'])
    const message = doc.components.schemas.ChangeStreamMessage!
    expect(message.properties?.event).toMatchObject({ enum: ['change'] })
    expect(message.properties?.data).toEqual({ $ref: '#/components/schemas/ChangeEvent' })
    const eventSchema = doc.components.schemas.ChangeEvent!

    // The sandbox's first days arrive as change events: read one off the stream.
    const ac = new AbortController()
    const res = await fetch(`${url}/api/v1/changes?lastEventId=0`, { headers: { accept: 'text/event-stream' }, signal: ac.signal })
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    const until = Date.now() + 20_000
    while (!/\n\n(id:[^\n]*\n[\s\S]*?)\n\n/.test(text) && Date.now() < until) text += (await reader.read()).value ?? ''
    ac.abort()
    const block = /(?:^|\n\n)(id:[^\n]*\n[\s\S]*?)\n\n/.exec(text)?.[1]
    expect(block, text).toBeDefined()
    const fields = Object.fromEntries(block!.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]))
    expect(Object.keys(fields).sort()).toEqual([...message.required!].sort())
    expect(fields.event).toBe('change')
    const data = JSON.parse(fields.data!) as Record<string, unknown>
    expect(Object.keys(data).sort()).toEqual(Object.keys(eventSchema.properties!).sort())
    expect(String(data.id)).toBe(fields.id)
  })
})

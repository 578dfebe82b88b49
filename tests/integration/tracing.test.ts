import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localDate } from '../../server/calendar/days.ts'
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp.ts'
import { startLiveServer, type LiveServer } from '../helpers/server.ts'

// The whole service (its own process, embedded Postgres, the sandbox as the
// partner) with the standard OTEL_* variables pointing at an in-process
// OTLP/HTTP receiver: what a collector would get.
let rcv: Awaited<ReturnType<typeof startOtlpReceiver>>
let live: LiveServer
beforeAll(async () => {
  rcv = await startOtlpReceiver()
  live = await startLiveServer({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: rcv.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'slotsync-under-test',
      // Export every 100 ms instead of 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '100',
      LOG_LEVEL: 'debug',
    },
  })
  // Some days fetched from the partner, then sync paused: the reads below are the only traffic.
  await live.freeze([14])
}, 90_000)
afterAll(async () => {
  await live?.stop()
  await rcv?.close()
})

async function waitForSpan(match: (s: ReceivedSpan) => boolean, what: string): Promise<ReceivedSpan> {
  const until = Date.now() + 10_000
  for (;;) {
    const s = rcv.spans.find(match)
    if (s) return s
    if (Date.now() > until) throw new Error(`no ${what} span among ${rcv.spans.length}: ${[...new Set(rcv.spans.map((x) => x.name))].join(', ')}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The span's ancestors, nearest first, up to the root of its trace. */
function ancestors(span: ReceivedSpan): ReceivedSpan[] {
  const chain: ReceivedSpan[] = []
  for (let s = span; s.parentSpanId; ) {
    const parent = rcv.spans.find((p) => p.spanId === s.parentSpanId && p.traceId === s.traceId)
    if (!parent) break
    chain.push(parent)
    s = parent
  }
  return chain
}

describe('tracing over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  it('one /slots request is one trace: the HTTP span named after the route, with the request id, and its database span under it', async () => {
    // Today in the product's calendar (the sandbox's zone), not UTC's: from 16:00 UTC those differ, and a past day is a 400.
    const date = localDate(Date.now(), 'Asia/Singapore')
    const res = await fetch(`${live.url}/api/v1/experience/14/slots?date=${date}`)
    expect(res.status).toBe(200)
    const requestId = res.headers.get('x-request-id')
    expect(requestId).toBeTruthy()
    const http = await waitForSpan((s) => s.attributes['slotsync.request_id'] === requestId, 'HTTP server')
    expect(http.name).toBe('GET /api/v1/experience/:id/slots')
    expect(http.attributes['http.route']).toBe('/api/v1/experience/:id/slots')
    expect(http.attributes['http.response.status_code'] ?? http.attributes['http.status_code']).toBe(200)
    expect(http.service).toBe('slotsync-under-test')
    expect(http.parentSpanId || undefined).toBeUndefined()
    const db = await waitForSpan((s) => s.traceId === http.traceId && s.name === 'prisma:client:db_query', 'database')
    expect(ancestors(db).at(-1)?.spanId).toBe(http.spanId)
    // Nothing of this request went to another trace.
    expect(rcv.spans.filter((s) => s.attributes['slotsync.request_id'] === requestId)).toHaveLength(1)
    // The request's log records carry the same id.
    expect(live.process.output()).toContain(`"requestId":"${requestId}"`)
  })

  it('a partner fetch is a span with the partner status, the HTTP call (undici) under it', async () => {
    const partner = await waitForSpan((s) => s.name === 'partner fetchDay' && s.attributes['slotsync.product_id'] === 14, 'partner')
    expect(partner.attributes['http.response.status_code']).toBe(200)
    expect(partner.attributes['slotsync.partner.outcome']).toBe('ok')
    expect(partner.attributes['slotsync.date']).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    const call = await waitForSpan((s) => s.parentSpanId === partner.spanId && s.traceId === partner.traceId, 'undici client')
    expect(call.attributes['http.response.status_code']).toBe(200)
    expect(String(call.attributes['url.full'])).toContain('/api/v1/inventory/14')
  })

  it('a tRPC call has a span named after the procedure, inside its HTTP span', async () => {
    const res = await fetch(`${live.url}/trpc/sync.status`)
    expect(res.status).toBe(200)
    const requestId = res.headers.get('x-request-id')
    const http = await waitForSpan((s) => s.attributes['slotsync.request_id'] === requestId, 'HTTP server')
    const proc = await waitForSpan((s) => s.name === 'trpc sync.status' && s.traceId === http.traceId, 'procedure')
    expect(proc.attributes['rpc.method']).toBe('sync.status')
    expect(ancestors(proc).map((s) => s.spanId)).toContain(http.spanId)
  })

  it('probes are not traced', async () => {
    const res = await fetch(`${live.url}/ready`)
    const requestId = res.headers.get('x-request-id')
    await fetch(`${live.url}/trpc/sync.status`) // a later request, to know the export has caught up
    await waitForSpan((s) => s.name === 'trpc sync.status' && rcv.spans.filter((x) => x.name === 'trpc sync.status').length >= 2, 'later procedure')
    expect(rcv.spans.filter((s) => s.attributes['slotsync.request_id'] === requestId)).toEqual([])
  })
})

describe('the audit trail of the running service', () => {
  it('the pause sent by freeze() is in /api/v1/audit and in the log as one "admin action" record with the same request id', async () => {
    const res = await fetch(`${live.url}/api/v1/audit?limit=1`, { headers: { authorization: `Bearer ${live.adminToken}` } })
    const [last] = ((await res.json()) as { actions: { action: string; target: string; tokenId: string; requestId: string }[] }).actions
    expect(last).toMatchObject({ action: 'sync.pause', target: 'all', tokenId: expect.stringMatching(/^[0-9a-f]{8}$/) })
    const records = live.process
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"admin action"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({ level: 30, action: 'sync.pause', target: 'all', tokenId: last!.tokenId, requestId: last!.requestId })
    expect(live.process.output()).not.toContain(live.adminToken)
  })
})

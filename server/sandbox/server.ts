import { timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { isValidDate } from '../calendar/days.ts'
import { systemClock, type Clock } from '../clock.ts'
import type { PartnerSlotInput } from '../partner/schema.ts'
import { createCatalogue, type Catalogue, type CatalogueShape } from './catalogue.ts'
import { hash01 } from './rng.ts'
import {
  createFaultDice,
  errorStatus,
  FAULT_KINDS,
  malformedBody,
  manySlotsDay,
  normalizeFaults,
  rateLimitBody,
  sendPaddedBody,
  wrongShapeBody,
  type FaultConfig,
  type FaultKind,
} from './faults.ts'
import { createWindowLimiter } from './limiter.ts'
import { silentLogger, type Logger } from '../logger.ts'

/** Kept as a name for this module's callers. */
export type SandboxLogger = Logger

export interface SandboxOptions {
  /** Default 0: any free port. */
  port?: number
  host?: string
  apiKey?: string
  rateLimitPerMinute?: number
  /** Generated products besides 14 and 15. */
  products?: number
  seed?: number
  clock?: Clock
  timeZone?: string
  faults?: Partial<FaultConfig>
  logger?: SandboxLogger
  /** How long each answer takes after the request arrives (clock ms, drawn uniformly): SANDBOX_LATENCY_MS. */
  latency?: { minMs: number; maxMs: number }
  /** The catalogue's shape: the partner's sample (default) or every product open 6–7 days a week. */
  shape?: CatalogueShape
  /**
   * How many (product, day) keys `lastServed` and `stats().perProductDate` keep, the least recently
   * served dropped first. Default unbounded: tests and simulations compare every day they fetched.
   * A sandbox that runs for days (`npm start`, `npm run sandbox`) bounds it: the days roll on, and
   * every day ever served would stay in memory.
   */
  remember?: number
}

export interface SandboxStats {
  /** Requests to the inventory route, whatever their answer. */
  requests: number
  /** By HTTP status; connections dropped or hung without an answer count as `dropped` and `hung`. */
  byStatus: Record<string, number>
  served200: number
  /** 429s the rate limit served (injected `rateLimitNoBody` faults are in `faults`, not here). */
  rateLimited: number
  unauthorized: number
  /** The most accepted requests of one key in any rolling 60 s of the clock. */
  maxInAnyWindow: number
  /** The most requests that ARRIVED (accepted or not, any key) in any rolling 60 s, counted on arrival. */
  maxArrivalsInAnyWindow: number
  faults: Record<FaultKind, number>
  /** Accepted requests per `productId/date`. */
  perProductDate: Record<string, number>
}

export interface Sandbox {
  url: string
  port: number
  apiKey: string
  catalogue: Catalogue
  stats(): SandboxStats
  resetStats(): void
  /** Replaces the fault configuration; unspecified rates are 0. */
  setFaults(f: Partial<FaultConfig>): void
  /** Force the answer for one day (tests: remove slots/pax); undefined = back to the catalogue. */
  setDay(productId: number, date: string, body: PartnerSlotInput[] | undefined): void
  /** Answers waiting out their latency (the simulation waits for the rest to be written). */
  pendingAnswers(): number
  /** The last well-formed 200 body served for (product, date) and when (clock ms, on arrival). */
  lastServed(productId: number, date: string): { at: number; body: PartnerSlotInput[] } | undefined
  close(): Promise<void>
}

/** `remember` for a sandbox that runs for days: the days served in the last ~17 minutes at 30/min. */
export const LONG_RUN_REMEMBER = 500

/** Sets `key` as the most recent entry and drops the least recent beyond `max` (a Map iterates in insertion order). */
export function rememberLast<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key)
  map.set(key, value)
  for (const oldest of map.keys()) {
    if (map.size <= max) break
    map.delete(oldest)
  }
}

const INVENTORY_PATH = /^\/api\/v1\/inventory\/([^/]+)$/
const silent = silentLogger

function emptyStats(): SandboxStats {
  return {
    requests: 0,
    byStatus: {},
    served200: 0,
    rateLimited: 0,
    unauthorized: 0,
    maxInAnyWindow: 0,
    maxArrivalsInAnyWindow: 0,
    faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    perProductDate: {},
  }
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const apiKey = opts.apiKey ?? 'sandbox-key'
  const clock = opts.clock ?? systemClock
  const log = opts.logger ?? silent
  const limit = opts.rateLimitPerMinute ?? 30
  const catalogue = createCatalogue({ seed: opts.seed ?? 1, products: opts.products ?? 50, timeZone: opts.timeZone ?? 'Asia/Singapore', shape: opts.shape })
  const latency = opts.latency ?? { minMs: 0, maxMs: 0 }
  let latencyDraws = 0
  let pending = 0
  const closing = new AbortController()
  // Every arrival's clock time, to count arrivals per window (accepted or refused) the way the partner does.
  let arrivals: number[] = []
  const limiter = createWindowLimiter(limit)
  const dice = createFaultDice(opts.seed ?? 1)
  let faults = normalizeFaults(opts.faults ?? {})
  let stats = emptyStats()
  const overrides = new Map<string, PartnerSlotInput[]>()
  const served = new Map<string, { at: number; body: PartnerSlotInput[] }>()
  // Kept apart from `stats` so the oldest key can be dropped; stats() lays it out as a record.
  let perDay = new Map<string, number>()
  const remember = opts.remember ?? Number.POSITIVE_INFINITY
  const snapshot = (): SandboxStats => structuredClone({ ...stats, perProductDate: Object.fromEntries(perDay) })
  const timers = new Set<NodeJS.Timeout>()
  const keyBuf = Buffer.from(apiKey)

  const count = (status: number | string) => {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1
  }
  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t)
        resolve()
      }, ms)
      timers.add(t)
    })
  const send = (res: http.ServerResponse, status: number, body: string | undefined, counted = true) => {
    if (res.destroyed || res.writableEnded) return
    if (counted) count(status)
    const headers: http.OutgoingHttpHeaders = { 'content-length': Buffer.byteLength(body ?? '') }
    if (body !== undefined) headers['content-type'] = 'application/json; charset=utf-8'
    res.writeHead(status, headers).end(body)
  }
  const sendJson = (res: http.ServerResponse, status: number, value: unknown) => send(res, status, JSON.stringify(value))
  // The control routes are for the humans and tests watching, so they stay out of the stats they read.
  const reply = (res: http.ServerResponse, status: number, value: unknown) => send(res, status, JSON.stringify(value), false)
  const authorized = (header: string | string[] | undefined) => {
    if (typeof header !== 'string') return false
    const got = Buffer.from(header)
    return got.length === keyBuf.length && timingSafeEqual(got, keyBuf)
  }

  function countArrival(now: number) {
    arrivals.push(now)
    if (arrivals.length > 10_000) arrivals = arrivals.slice(-5_000)
    let first = arrivals.length - 1
    while (first > 0 && arrivals[first - 1]! > now - 60_000) first--
    stats.maxArrivalsInAnyWindow = Math.max(stats.maxArrivalsInAnyWindow, arrivals.length - first)
  }

  /** The answer leaves this long after the request arrived (clock time, so a simulated clock drives it too). */
  async function answerDelay() {
    if (latency.maxMs <= 0) return
    const ms = latency.minMs + (latency.maxMs - latency.minMs) * hash01(opts.seed ?? 1, 'latency', latencyDraws++)
    pending++
    try {
      await clock.sleep(ms, closing.signal)
    } finally {
      pending--
    }
  }

  async function inventory(req: http.IncomingMessage, res: http.ServerResponse, rawId: string, url: URL) {
    stats.requests++
    countArrival(clock.now())
    if (!authorized(req.headers['x-api-key'])) {
      stats.unauthorized++
      return sendJson(res, 401, { message: 'Unauthorized' })
    }
    const now = clock.now()
    const decision = limiter.take(apiKey, now)
    stats.maxInAnyWindow = limiter.maxInAnyWindow()
    if (!decision.ok) {
      stats.rateLimited++
      return sendJson(res, 429, { message: 'Too many requests', rateLimitState: { remaining: 0, reset: decision.reset } })
    }
    const productId = Number(rawId)
    if (!/^\d+$/.test(rawId) || !Number.isSafeInteger(productId) || productId < 1)
      return sendJson(res, 400, { message: 'productId must be a positive integer' })
    const date = url.searchParams.get('date') ?? ''
    if (!isValidDate(date)) return sendJson(res, 400, { message: 'date must be a calendar day as YYYY-MM-DD' })
    const key = `${productId}/${date}`
    rememberLast(perDay, key, (perDay.get(key) ?? 0) + 1, remember)

    // Unknown products answer [] like closed days: the contract has no "not found", and an empty array already means "nothing on sale".
    const body = overrides.get(key) ?? catalogue.inventory(productId, date, now)
    const fault = dice.pick(faults)
    await answerDelay()
    if (dice.slow(faults)) {
      stats.faults.slow++
      await delay(faults.slowMs)
    }
    if (fault) stats.faults[fault]++
    log.debug({ productId, date, fault, slots: body.length }, 'sandbox request')
    switch (fault) {
      case 'error':
        return sendJson(res, errorStatus(dice.random), { message: 'Internal server error' })
      case 'timeout':
        count('hung')
        await delay(faults.hangMs)
        return void res.destroy()
      case 'drop':
        count('dropped')
        return void req.socket.destroy()
      case 'malformed':
        return send(res, 200, malformedBody(body, dice.random))
      case 'wrongShape':
        return sendJson(res, 200, wrongShapeBody(body, dice.random))
      case 'rateLimitNoBody':
        return send(res, 429, undefined)
      case 'rateLimit':
        if (faults.retryAfter !== null) res.setHeader('retry-after', faults.retryAfter)
        return send(res, 429, rateLimitBody(faults))
      case 'hugeBody':
        count(200)
        return sendPaddedBody(res, JSON.stringify(body), faults.hugeBodyBytes, faults.hugeBodyDeclared)
      case 'manySlots':
        return sendJson(res, 200, manySlotsDay(date, faults.manySlots))
      case 'empty':
      case undefined: {
        const answer = fault === 'empty' ? [] : body
        if (res.destroyed) return
        rememberLast(served, key, { at: now, body: structuredClone(answer) }, remember)
        stats.served200++
        return sendJson(res, 200, answer)
      }
    }
  }

  async function readBody(req: http.IncomingMessage): Promise<string> {
    let text = ''
    for await (const chunk of req) {
      text += chunk
      if (text.length > 65_536) throw new RangeError('body too large')
    }
    return text
  }

  async function control(req: http.IncomingMessage, res: http.ServerResponse, path: string) {
    if (path === '/__sandbox/stats' && req.method === 'GET') return reply(res, 200, snapshot())
    if (path === '/__sandbox/faults' && req.method === 'GET') return reply(res, 200, faults)
    if (path === '/__sandbox/faults' && req.method === 'POST') {
      try {
        const text = await readBody(req)
        faults = normalizeFaults(text.trim() ? JSON.parse(text) : {})
      } catch (err) {
        return reply(res, 400, { message: err instanceof Error ? err.message : 'bad fault configuration' })
      }
      log.info({ faults }, 'sandbox faults changed')
      return reply(res, 200, faults)
    }
    return reply(res, 404, { message: 'Not found' })
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://sandbox')
    const m = INVENTORY_PATH.exec(url.pathname)
    if (!m) return control(req, res, url.pathname)
    if (req.method !== 'GET') return reply(res, 405, { message: 'Method not allowed' })
    return inventory(req, res, m[1]!, url)
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'sandbox handler failed')
      send(res, 500, JSON.stringify({ message: 'Internal server error' }))
    })
  })
  // Undici reuses idle sockets for up to 4 s; closing ours later avoids resets on reuse.
  server.keepAliveTimeout = 10_000

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}`
  log.info({ url, products: catalogue.productIds().length, rateLimitPerMinute: limit }, 'partner sandbox listening')

  return {
    url,
    port: address.port,
    apiKey,
    catalogue,
    stats: snapshot,
    pendingAnswers: () => pending,
    resetStats() {
      stats = emptyStats()
      perDay = new Map()
      arrivals = []
      limiter.resetMax()
    },
    setFaults(f) {
      faults = normalizeFaults(f)
    },
    setDay(productId, date, body) {
      if (body === undefined) overrides.delete(`${productId}/${date}`)
      else overrides.set(`${productId}/${date}`, structuredClone(body))
    },
    lastServed(productId, date) {
      const s = served.get(`${productId}/${date}`)
      return s && structuredClone(s)
    },
    async close() {
      closing.abort()
      for (const t of timers) clearTimeout(t)
      timers.clear()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      // Hung and keep-alive connections would hold close() open for as long as they last.
      server.closeAllConnections()
      await closed
    },
  }
}

import type { Db } from '../db/client.ts'
import type { LiveChecker } from '../sync/live.ts'
import type { AvailabilityService, DatesJson, DatesResult, Freshness, LiveRead, SlotsJson, SlotsResult, SlotView } from './types.ts'
import { addDays, daysBetween, isValidDate } from '../calendar/days.ts'
import { checkDateInHorizon, HORIZON_DAYS, horizonAt, type DateCheck, type Horizon } from '../calendar/horizon.ts'
import type { Clock } from '../clock.ts'
import { isValidTimeZone } from '../config.ts'
import { deepFreeze, parseFrozen } from '../json-text.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import { createReadCache } from './cache.ts'
import { coverageOf, type Coverage } from './coverage.ts'
import { freshnessOf } from './freshness.ts'
import {
  type CalendarDayRow,
  cutDates,
  loadCalendar,
  loadDay,
  loadOpenDays,
  loadRange,
  productSummaries,
  type ProductSummaryRow,
  type RangeSlotRow,
} from './queries.ts'

export interface AvailabilityDeps {
  /** Reads only: one `$queryRaw` per answer. */
  prisma: Pick<Db, '$queryRaw'>
  clock: Pick<Clock, 'now'>
  /** For a product row whose time zone the runtime does not know (should not happen). */
  defaultTimeZone: string
  /**
   * Reuse what was read from Postgres for this long (clock ms). 0, the
   * default, reads on every request. A second or so costs clients nothing
   * (the data is minutes old anyway) and takes Postgres off the hot path.
   */
  cacheTtlMs?: number
  /**
   * Where each day read is counted (the sync engine's read counter,
   * sync/demand.ts): a /slots read (REST, tRPC) counts its day; an OCTO
   * availability read (`range`) counts 1 spread over the horizon days it
   * shows. /dates and the OCTO calendar are not counted: they show every
   * day of the horizon alike, so they say which product is looked at, not
   * which day, and the day read that follows them is counted. Only answered
   * reads count (a known product, a day in its horizon), so nothing a client
   * makes up grows the counts. Called in the read path: must not do I/O.
   */
  reads?: ReadRecorder
  /** Live checks (sync/live.ts); absent: a read with a maximum age answers the stored day, `live: "failed"`. */
  live?: Pick<LiveChecker, 'check'>
}

/** Counts one read of a day, `weight` < 1 for a read that shows several days. */
export interface ReadRecorder {
  record(productId: number, date: string, weight?: number): void
}

/** Stored days of one product with money as the stored decimal text, for faces that convert money themselves (OCTO). */
export interface StoredRange {
  timeZone: string
  /** The product's served horizon now: days outside it are not served. */
  horizon: Horizon
  /** Slots of the days asked for, ordered by date then start (as /slots orders them); pax by type. */
  slots: readonly RangeSlotRow[]
  /** The oldest fetch among the days asked for (epoch ms); null when none was fetched. */
  oldestFetchedAt: number | null
}

export type ProductSummary = ProductSummaryRow

/** A product's fetched days of a range as the OCTO calendar needs them (queries.ts CalendarDayRow); money as decimal text. */
export interface StoredCalendar {
  timeZone: string
  /** The product's served horizon now: days outside it are not served. */
  horizon: Horizon
  /** Fetched days only, ascending: a day of the range without an entry was never fetched. */
  days: readonly CalendarDayRow[]
}

export interface CachingAvailabilityService extends AvailabilityService {
  /** Forgets cached reads of one product (or all): for a writer in this process that wants its write visible at once. */
  invalidate(productId?: number): void
  /** A product's stored slots from `from` to `to` (real days, from ≤ to) in one query; undefined for an unknown product. */
  range(productId: number, from: string, to: string): Promise<StoredRange | undefined>
  /** A product's fetched days from `from` to `to` (real days, from ≤ to), one narrow row each, in one query; undefined for an unknown or removed product. */
  calendar(productId: number, from: string, to: string): Promise<StoredCalendar | undefined>
  /** Start times, pax types and currencies each active product (or one) has in its stored horizon, in one query. */
  summaries(productId?: number): Promise<readonly ProductSummary[]>
}

interface OpenDays {
  timeZone: string
  /** Open days of a window a day wider on each side than any horizon, as JSON text (queries.ts datesSql). */
  text: string
  /** The fetched days of the same window with their fetch times (queries.ts DatesRow). */
  fetched: string
  /** The last cut, reused while the horizon is the same; parsed only when a face needs values (frozen: its text is sent as is). */
  cut?: { today: string; text: string; coverage: Coverage; dates?: DatesResult['dates'] }
}

function cutOf(row: OpenDays, h: Horizon): NonNullable<OpenDays['cut']> {
  if (row.cut?.today !== h.today) row.cut = { today: h.today, text: cutDates(row.text, h.today, h.last), coverage: deepFreeze(coverageOf(row.fetched, h)) }
  return row.cut
}

const utcDay = (now: number) => new Date(now).toISOString().slice(0, 10)

interface DayView {
  timeZone: string
  lastFetchedAt: Date | null
  /** The day's slots as the JSON text the snapshot writer stored: REST sends it as is. */
  body: string
  /** Parsed on first need (tRPC) and kept with a cached view; frozen, as many requests may share it. */
  slots?: readonly SlotView[]
}

const MAX_INT4 = 2_147_483_647
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/
const NO_HORIZON: Horizon = { today: '', last: '' }

// The routers validate with zod first; these guards keep the service safe
// when called directly (other code, tests) and name the same fields.
function checkProductId(productId: number): void {
  if (!Number.isInteger(productId) || productId < 1 || productId > MAX_INT4) {
    throw new BadRequestError('productId', `must be a positive integer (1 to ${MAX_INT4})`)
  }
}

const DATE_REASON: Record<Exclude<DateCheck, { ok: true }>['reason'], (date: string, h: Horizon, tz: string) => string> = {
  malformed: () => 'must be a date written YYYY-MM-DD',
  impossible: () => 'is not a real calendar day',
  past: (d, h, tz) => `${d} is in the past (today is ${h.today} in ${tz})`,
  beyond: (d, h, tz) => `${d} is beyond the served horizon (the last day is ${h.last} in ${tz})`,
}

/** A product id and a from/to pair of real calendar days (range reads: OCTO availability and calendar). */
function checkRange(productId: number, from: string, to: string): void {
  checkProductId(productId)
  if (!isValidDate(from)) throw new BadRequestError('from', DATE_REASON.impossible(from, NO_HORIZON, ''))
  if (!isValidDate(to)) throw new BadRequestError('to', DATE_REASON.impossible(to, NO_HORIZON, ''))
}

export function createAvailabilityService(deps: AvailabilityDeps): CachingAvailabilityService {
  const { prisma, clock } = deps
  const zone = (tz: string) => (isKnownTimeZone(tz) ? tz : deps.defaultTimeZone)
  const cache = createReadCache({ ttlMs: deps.cacheTtlMs ?? 0, now: () => clock.now() })
  const reads = deps.reads

  // Keys start with the product id so one product can be forgotten at once.
  const day = (productId: number, date: string) =>
    cache.get(`${productId}|day|${date}`, async (): Promise<DayView | undefined> => {
      const row = await loadDay(prisma, productId, date)
      return row && { timeZone: row.timeZone, lastFetchedAt: row.lastFetchedAt, body: row.body ?? '[]' }
    })
  // Every zone's today is within a day of UTC's: read that wider window once
  // (keyed by the UTC day) and cut it to the product's horizon per request.
  const openDays = (productId: number, utcToday: string) =>
    cache.get(`${productId}|dates|${utcToday}`, async (): Promise<OpenDays | undefined> => {
      const row = await loadOpenDays(prisma, productId, addDays(utcToday, -1), addDays(utcToday, HORIZON_DAYS))
      return row && { timeZone: row.timeZone, text: row.dates, fetched: row.fetched }
    })

  // The checks and the freshness of a /slots answer, whichever form its slots take; `count`: the read is counted (once per read, not again after a live check).
  async function checkedDay(productId: number, date: string, count = true): Promise<{ day: DayView; freshness: Freshness }> {
    checkProductId(productId)
    // Shape first: the query casts the date, so it must be a real day.
    if (!DATE_RE.test(date)) throw new BadRequestError('date', DATE_REASON.malformed(date, NO_HORIZON, ''))
    if (!isValidDate(date)) throw new BadRequestError('date', DATE_REASON.impossible(date, NO_HORIZON, ''))
    const d = await day(productId, date)
    if (!d) throw new NotFoundError(`no product ${productId}`)
    const now = clock.now()
    const tz = zone(d.timeZone)
    const h = horizonNow(now, tz)
    const check = checkDateInHorizon(date, h)
    if (!check.ok) throw new BadRequestError('date', DATE_REASON[check.reason](date, h, tz))
    if (count) reads?.record(productId, date)
    return { day: d, freshness: freshnessOf(d.lastFetchedAt, check.offset, now) }
  }

  /**
   * checkedDay, and when the read asks for a maximum age the stored day is
   * older than, a live check first: the fresh day read again, or the stored
   * one saying why not (public-api.md "Live check").
   */
  async function liveDay(productId: number, date: string, read: LiveRead | undefined): Promise<{ day: DayView; freshness: Freshness }> {
    const first = await checkedDay(productId, date)
    if (read?.maxAgeS === undefined) return first
    const maxAgeMs = read.maxAgeS * 1000
    const stored = first.day.lastFetchedAt?.getTime()
    if (stored !== undefined && clock.now() - stored <= maxAgeMs) return first
    const notFresh = { ...first.freshness, state: stored === undefined ? ('never' as const) : ('stale' as const) }
    if (!deps.live) return { day: first.day, freshness: { ...notFresh, live: 'failed', reason: 'live checks are off on this instance' } }
    const o = await deps.live.check(productId, date, maxAgeMs, read.client)
    if (o.status === 'fresh') {
      if (o.fetched) cache.invalidate(`${productId}|`)
      return checkedDay(productId, date, false)
    }
    if (o.status === 'refused') return { day: first.day, freshness: { ...notFresh, live: 'refused', retryAfterS: o.retryAfterS } }
    return { day: first.day, freshness: { ...notFresh, live: 'failed', reason: o.reason } }
  }

  async function cutDays(productId: number): Promise<NonNullable<OpenDays['cut']>> {
    checkProductId(productId)
    const now = clock.now()
    const row = await openDays(productId, utcDay(now))
    if (!row) throw new NotFoundError(`no product ${productId}`)
    return cutOf(row, horizonNow(now, zone(row.timeZone)))
  }

  return {
    async slots(productId, date, read): Promise<SlotsResult> {
      const { day: d, freshness } = await liveDay(productId, date, read)
      d.slots ??= parseFrozen<SlotView[]>(d.body)
      return { slots: d.slots as SlotView[], freshness }
    },

    async slotsJson(productId, date, read): Promise<SlotsJson> {
      const { day: d, freshness } = await liveDay(productId, date, read)
      return { slots: d.body, freshness }
    },

    async dates(productId): Promise<DatesResult> {
      const cut = await cutDays(productId)
      cut.dates ??= parseFrozen<DatesResult['dates']>(cut.text)
      return { dates: cut.dates, ...cut.coverage }
    },

    async datesJson(productId): Promise<DatesJson> {
      const cut = await cutDays(productId)
      return { dates: cut.text, ...cut.coverage }
    },

    async range(productId, from, to) {
      checkRange(productId, from, to)
      const row = await cache.get(`${productId}|range|${from}|${to}`, async () => {
        const r = await loadRange(prisma, productId, from, to)
        return r && deepFreeze(r)
      })
      if (!row) return undefined
      const tz = zone(row.timeZone)
      const horizon = horizonNow(clock.now(), tz)
      if (reads) countRange(reads, productId, from, to, horizon)
      return { timeZone: tz, horizon, slots: row.slots, oldestFetchedAt: row.oldestFetchedAt }
    },

    async calendar(productId, from, to) {
      checkRange(productId, from, to)
      const row = await cache.get(`${productId}|calendar|${from}|${to}`, async () => {
        const r = await loadCalendar(prisma, productId, from, to)
        return r && deepFreeze(r)
      })
      if (!row) return undefined
      const tz = zone(row.timeZone)
      return { timeZone: tz, horizon: horizonNow(clock.now(), tz), days: row.days }
    },

    async summaries(productId) {
      if (productId !== undefined) checkProductId(productId)
      // Keyed by the minute: "today" (each product's) moves at most at a minute boundary.
      const minute = Math.floor(clock.now() / 60_000)
      const key = productId === undefined ? `|summaries|${minute}` : `${productId}|summary|${minute}`
      return cache.get(key, async () => {
        const rows = await productSummaries(prisma, new Date(clock.now()), HORIZON_DAYS, productId)
        return deepFreeze(rows.map((r) => ({ ...r, timeZone: zone(r.timeZone) })))
      })
    },

    invalidate(productId) {
      cache.invalidate(productId === undefined ? undefined : `${productId}|`)
      // The all-products summary holds this product too.
      if (productId !== undefined) cache.invalidate('|summaries|')
    },
  }
}

/** An availability read of `from..to`: 1 read spread over the days of it in the horizon (a sweep of 60 days weighs what one shopper's day does). */
function countRange(reads: ReadRecorder, productId: number, from: string, to: string, h: Horizon): void {
  const first = from > h.today ? from : h.today
  const last = to < h.last ? to : h.last
  if (first > last) return
  const n = daysBetween(first, last) + 1
  for (let d = first, i = 0; i < n; d = addDays(d, 1), i++) reads.record(productId, d, 1 / n)
}

// Working out today in a time zone (Intl) cost ~6 µs, more than the rest of a
// cached read. Local midnight falls on a whole minute in every current zone,
// so today is the same all minute long.
const horizons = new Map<string, { minute: number; horizon: Horizon }>()
function horizonNow(now: number, tz: string): Horizon {
  const minute = Math.floor(now / 60_000)
  const hit = horizons.get(tz)
  if (hit && hit.minute === minute) return hit.horizon
  const horizon = horizonAt(now, tz)
  horizons.set(tz, { minute, horizon })
  return horizon
}

// Time zones come from product rows; checking one costs an Intl constructor, so once per name.
const knownZones = new Map<string, boolean>()
function isKnownTimeZone(tz: string): boolean {
  let known = knownZones.get(tz)
  if (known === undefined) {
    known = isValidTimeZone(tz)
    knownZones.set(tz, known)
  }
  return known
}

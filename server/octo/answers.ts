/**
 * What each OCTO endpoint answers, from the availability service's reads:
 * validate (requests.ts), read once or twice, map (mapping.ts). No Fastify
 * here, so the routes stay a thin shell and these can be called directly.
 */
import type { CachingAvailabilityService, ProductSummary } from '../availability/service.ts'
import type { LiveChecker } from '../sync/live.ts'
import { invalidAvailability, invalidOption, invalidProduct, invalidUnit } from './errors.ts'
import { OPTION_ID, PRICING, octoAvailabilities, octoCalendar, octoProduct, type MapOptions, type UnitRequest } from './mapping.ts'
import { availabilityIdDate, parseAvailabilityRequest, parseCalendarRequest, productIdNumber } from './requests.ts'

export type OctoReads = Pick<CachingAvailabilityService, 'range' | 'calendar' | 'summaries' | 'invalidate'>

/** A one-day availability read is a live check (octo.md "Freshness for resellers") with this maximum age (OCTO_LIVE_MAX_AGE_S). */
export interface OctoLive {
  check: LiveChecker['check']
  maxAgeMs: number
  /** The clock the stored day's age is read with (the server's). */
  now: () => number
}

export interface SupplierInfo {
  id: string
  name: string
  contact: { website: string | null; email: string | null; telephone: string | null; address: string | null }
}

export const DEFAULT_SUPPLIER: SupplierInfo = { id: 'slotsync', name: 'slotsync', contact: { website: null, email: null, telephone: null, address: null } }

// Any day works to learn whether a product exists when no requested id is even
// shaped like one: the range read answers the product row with no slots.
const PROBE_DAY = '2000-01-01'

/**
 * Mapped answers reused while the service hands back the same (cached,
 * frozen) rows: with the read cache on, a popular calendar is mapped once per
 * cache period rather than per request. Keyed weakly by the rows, so nothing
 * outlives them; with the cache off every read is new and nothing is reused.
 */
function createMemo() {
  const byRows = new WeakMap<object, Map<string, unknown>>()
  return <T>(rows: object, key: string, make: () => T): T => {
    let answers = byRows.get(rows)
    if (!answers) {
      answers = new Map()
      byRows.set(rows, answers)
    }
    if (!answers.has(key)) answers.set(key, make())
    return answers.get(key) as T
  }
}

export function createOctoAnswers(reads: OctoReads, supplier: SupplierInfo = DEFAULT_SUPPLIER, live?: OctoLive) {
  async function summary(productId: string): Promise<ProductSummary> {
    const [p] = await reads.summaries(productIdNumber(productId))
    if (!p) throw invalidProduct(productId)
    return p
  }

  async function checkUnits(productId: string, units: readonly UnitRequest[] | undefined): Promise<void> {
    if (!units?.length) return
    const known = new Set((await summary(productId)).paxTypes.map((p) => p.type))
    const unknown = units.find((u) => !known.has(u.id))
    if (unknown) throw invalidUnit(unknown.id)
  }

  async function read(productId: string, optionId: string, from: string, to: string) {
    const range = await reads.range(productIdNumber(productId), from, to)
    if (!range) throw invalidProduct(productId)
    if (optionId !== OPTION_ID) throw invalidOption(optionId)
    return range
  }

  /**
   * The stored slots of one day: every one-day availability request (a
   * `localDate`, a one-day range, ids all on one day) reads through here,
   * the place for a read that wants the day fresher than stored.
   */
  async function readDay(productId: string, optionId: string, date: string, client: string | undefined) {
    const stored = await read(productId, optionId, date, date)
    if (!live || (stored.oldestFetchedAt !== null && live.now() - stored.oldestFetchedAt <= live.maxAgeMs)) return stored
    // Refused or failed: the stored day is the answer (OCTO has no stale flag; Slotsync-Fetched-At says its age).
    const o = await live.check(productIdNumber(productId), date, live.maxAgeMs, client)
    if (o.status !== 'fresh' || !o.fetched) return stored
    reads.invalidate(productIdNumber(productId))
    return read(productId, optionId, date, date)
  }

  const memo = createMemo()
  const mapOptions = (capabilities: readonly string[], units: UnitRequest[] | undefined): MapOptions => ({
    pricing: capabilities.includes(PRICING),
    ...(units ? { units } : {}),
  })

  const answers = {
    supplier(endpoint: string) {
      return { id: supplier.id, name: supplier.name, endpoint, contact: { ...supplier.contact } }
    },

    async products(capabilities: readonly string[]) {
      const pricing = capabilities.includes(PRICING)
      return (await reads.summaries()).map((p) => octoProduct(p, { pricing }))
    },

    async product(productId: string, capabilities: readonly string[]) {
      return octoProduct(await summary(productId), { pricing: capabilities.includes(PRICING) })
    },

    /** One query (two when `units` are given, to check them). */
    async calendar(body: unknown, capabilities: readonly string[]) {
      const req = parseCalendarRequest(body)
      const cal = await reads.calendar(productIdNumber(req.productId), req.localDateStart, req.localDateEnd)
      if (!cal) throw invalidProduct(req.productId)
      if (req.optionId !== OPTION_ID) throw invalidOption(req.optionId)
      await checkUnits(req.productId, req.units)
      const opts = mapOptions(capabilities, req.units)
      // Units do not change a calendar; today (the horizon) does.
      return memo(cal.days, `${cal.horizon.today} ${req.localDateStart} ${req.localDateEnd} ${opts.pricing}`, () =>
        octoCalendar(cal, req.localDateStart, req.localDateEnd, opts),
      )
    },

    async availability(body: unknown, capabilities: readonly string[]) {
      return (await answers.availabilityAnswer(body, capabilities)).body
    },

    /** availability(), and the oldest fetch time of the days it answers (null: none fetched), for the Slotsync-Fetched-At header. */
    async availabilityAnswer(body: unknown, capabilities: readonly string[], client?: string) {
      const req = parseAvailabilityRequest(body)
      const opts = mapOptions(capabilities, req.units)
      const sel = req.selector
      if (sel.kind === 'range') {
        const oneDay = sel.localDateStart === sel.localDateEnd
        const range = oneDay
          ? await readDay(req.productId, req.optionId, sel.localDateStart, client)
          : await read(req.productId, req.optionId, sel.localDateStart, sel.localDateEnd)
        await checkUnits(req.productId, req.units)
        return { body: octoAvailabilities(range, sel.localDateStart, sel.localDateEnd, opts), fetchedAt: range.oldestFetchedAt }
      }
      const days = sel.availabilityIds
        .map(availabilityIdDate)
        .filter((d): d is string => d !== undefined)
        .sort()
      const from = days[0] ?? PROBE_DAY
      const to = days[days.length - 1] ?? PROBE_DAY
      const range = from === to ? await readDay(req.productId, req.optionId, from, client) : await read(req.productId, req.optionId, from, to)
      await checkUnits(req.productId, req.units)
      const served = octoAvailabilities(range, from, to, opts)
      const wanted = new Set(sel.availabilityIds)
      const found = new Set(served.map((a) => a.id))
      const missing = sel.availabilityIds.find((id) => !found.has(id))
      if (missing !== undefined) throw invalidAvailability(missing)
      return { body: served.filter((a) => wanted.has(a.id)), fetchedAt: range.oldestFetchedAt }
    },
  }
  return answers
}

export type OctoAnswers = ReturnType<typeof createOctoAnswers>

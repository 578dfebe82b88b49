import type { Freshness } from './freshness.ts'

/**
 * What the availability service answers, in its own words. The API's zod
 * output schemas (server/api/schemas.ts) describe the same shapes for the
 * wire and OpenAPI; server/api/services.ts checks at compile time that the two
 * agree, so neither can change alone.
 */

/** Money as JSON numbers with at most two decimals. */
export interface Price {
  finalPrice: number
  currencyCode: string
  originalPrice: number
}

export interface PaxView {
  type: string
  name: string
  description: string
  price: Price
  min: number
  max: number
  remaining: number
  isPrimary: boolean
}

export interface SlotView {
  startTime: string
  startDate: string
  endTime: string
  providerSlotId: string
  /** The primary pax type's price; null for a slot without pax types. */
  price: Price | null
  remaining: number
  /** Primary first, then by type. */
  paxAvailability: PaxView[]
}

export type { Freshness }

export interface SlotsResult {
  slots: SlotView[]
  freshness: Freshness
}

export interface DatesResult {
  dates: { date: string; price: Price }[]
  /** Days of the horizon never fetched yet, ascending: not closed, not known (public-api.md, "Coverage"). */
  pending: string[]
  /** ISO time of the oldest fetch among the horizon's fetched days; null when none was fetched. */
  oldestFetchedAt: string | null
}

/** SlotsResult with `slots` as its JSON text, for a face that sends text (REST): stored that way, never parsed. */
export interface SlotsJson {
  slots: string
  freshness: Freshness
}

/** DatesResult with `dates` as its JSON text. */
export interface DatesJson {
  dates: string
  pending: string[]
  oldestFetchedAt: string | null
}

/** A read that wants the day no older than `maxAgeS` (a live check); `client` is counted against LIVE_CHECKS_PER_MINUTE. */
export interface LiveRead {
  maxAgeS?: number | undefined
  client?: string | undefined
}

export interface AvailabilityService {
  /** A day's slots with pax, sorted; throws BadRequestError (field productId|date) or NotFoundError. */
  slots(productId: number, date: string, live?: LiveRead): Promise<SlotsResult>
  /** Days of the 60-day horizon with something left, and their lowest price. */
  dates(productId: number): Promise<DatesResult>
  /** slots(), same checks and errors, with the slots as JSON text. */
  slotsJson(productId: number, date: string, live?: LiveRead): Promise<SlotsJson>
  /** dates(), same checks and errors, with the dates as JSON text. */
  datesJson(productId: number): Promise<DatesJson>
}

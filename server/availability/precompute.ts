import type { PartnerSlot } from '../partner/schema.ts'
import { choosePrimary, compareCodePoints, type Price, type PricedPax } from './pricing.ts'
import type { SlotView } from './types.ts'

/**
 * What reads need, worked out once per partner answer (by the snapshot
 * writer) instead of once per request: each slot's client price and the
 * day's summary. Pure; the rules themselves live in pricing.ts.
 */

/** A price as the database stores it: numeric(12,2) text, never a float. */
export interface StoredPrice {
  finalPrice: string
  originalPrice: string
  currencyCode: string
}

export interface SlotPrice {
  /** The pax type whose price is the slot's (pricing.ts choosePrimary). */
  primaryType: string
  price: StoredPrice
}

export interface DayPrice {
  /** Some slot has seats left and a price: the day is listed by /dates. */
  open: boolean
  /** Lowest client price among those slots; null when the day is not open. */
  lowest: StoredPrice | null
}

/** The slot's client price, null for a slot without pax types (it cannot be sold). */
export function slotClientPrice(slot: PartnerSlot): SlotPrice | null {
  const priced = slot.paxAvailability.map((p): PricedPax & { stored: StoredPrice } => ({
    type: p.type,
    isPrimary: p.isPrimary,
    price: { finalPrice: Number(p.price.finalPrice), originalPrice: Number(p.price.originalPrice), currencyCode: p.price.currencyCode },
    stored: { finalPrice: p.price.finalPrice, originalPrice: p.price.originalPrice, currencyCode: p.price.currencyCode },
  }))
  const primary = choosePrimary(priced)
  return primary ? { primaryType: primary.type, price: primary.stored } : null
}

// Numbers compare two-decimal values below 10^10 exactly (numeric(12,2) fits a double's 15 digits).
function compareStored(a: StoredPrice, b: StoredPrice): number {
  return Number(a.finalPrice) - Number(b.finalPrice) || Number(a.originalPrice) - Number(b.originalPrice) || compareCodePoints(a.currencyCode, b.currencyCode)
}

/**
 * The day as /dates sees it: the lowest slot price among slots with seats
 * left (public-api.md), ties broken by original price then currency so the
 * answer does not depend on slot order. Currencies are not converted: a day
 * selling in two currencies shows whichever number is lowest, as before.
 */
export function dayPrice(slots: readonly PartnerSlot[], prices: readonly (SlotPrice | null)[]): DayPrice {
  let lowest: StoredPrice | null = null
  slots.forEach((s, i) => {
    const p = prices[i]
    if (s.remaining > 0 && p && (lowest === null || compareStored(p.price, lowest) < 0)) lowest = p.price
  })
  return { open: lowest !== null, lowest }
}

const priceJson = (p: StoredPrice): Price => ({ finalPrice: Number(p.finalPrice), currencyCode: p.currencyCode, originalPrice: Number(p.originalPrice) })

/**
 * The day's slots exactly as /slots answers them (public-api.md): slots by
 * start time, then slot id; pax with the slot's primary type first, then by
 * type; both in code point order (what the stored rows' `COLLATE "C"` order
 * was). The writer stores its JSON text and reads send that text as is.
 */
export function daySlotsView(date: string, slots: readonly PartnerSlot[], prices: readonly (SlotPrice | null)[]): SlotView[] {
  const order = slots.map((_, i) => i)
  order.sort((a, b) => compareCodePoints(slots[a]!.startTime, slots[b]!.startTime) || compareCodePoints(slots[a]!.providerSlotId, slots[b]!.providerSlotId))
  return order.map((i): SlotView => {
    const s = slots[i]!
    const primary = prices[i]?.primaryType
    const pax = [...s.paxAvailability].sort((a, b) => Number(b.type === primary) - Number(a.type === primary) || compareCodePoints(a.type, b.type))
    return {
      startTime: s.startTime,
      startDate: date,
      endTime: s.endTime,
      providerSlotId: s.providerSlotId,
      price: prices[i] ? priceJson(prices[i].price) : null,
      remaining: s.remaining,
      paxAvailability: pax.map((p) => ({
        type: p.type,
        name: p.name,
        description: p.description,
        price: priceJson(p.price),
        min: p.min,
        max: p.max,
        remaining: p.remaining,
        isPrimary: p.isPrimary,
      })),
    }
  })
}

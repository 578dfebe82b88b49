import type { PartnerSlot } from '../partner/schema.ts'

/**
 * A validated partner day as column arrays, ready for set-based SQL
 * (`unnest`): one statement per table whatever the number of slots.
 */
export interface DayColumns {
  slots: {
    providerSlotId: string[]
    startTime: string[]
    endTime: string[]
    remaining: number[]
    currencyCode: string[]
    variantId: number[]
  }
  pax: {
    providerSlotId: string[]
    type: string[]
    name: string[]
    description: string[]
    isPrimary: boolean[]
    min: number[]
    max: number[]
    remaining: number[]
    finalPrice: string[]
    originalPrice: string[]
    discount: string[]
    currencyCode: string[]
  }
}

export interface DaySummary {
  slotCount: number
  /** Latest start time of the day ("HH:mm"), for the end-of-day cut-off. */
  lastSlotStart: string | null
  totalRemaining: number
}

export function toColumns(slots: readonly PartnerSlot[]): DayColumns {
  const c: DayColumns = {
    slots: { providerSlotId: [], startTime: [], endTime: [], remaining: [], currencyCode: [], variantId: [] },
    pax: {
      providerSlotId: [],
      type: [],
      name: [],
      description: [],
      isPrimary: [],
      min: [],
      max: [],
      remaining: [],
      finalPrice: [],
      originalPrice: [],
      discount: [],
      currencyCode: [],
    },
  }
  for (const s of slots) {
    c.slots.providerSlotId.push(s.providerSlotId)
    c.slots.startTime.push(s.startTime)
    c.slots.endTime.push(s.endTime)
    c.slots.remaining.push(s.remaining)
    c.slots.currencyCode.push(s.currencyCode)
    c.slots.variantId.push(s.variantId)
    for (const p of s.paxAvailability) {
      c.pax.providerSlotId.push(s.providerSlotId)
      c.pax.type.push(p.type)
      c.pax.name.push(p.name)
      c.pax.description.push(p.description)
      c.pax.isPrimary.push(p.isPrimary)
      c.pax.min.push(p.min)
      c.pax.max.push(p.max)
      c.pax.remaining.push(p.remaining)
      c.pax.finalPrice.push(p.price.finalPrice)
      c.pax.originalPrice.push(p.price.originalPrice)
      c.pax.discount.push(p.price.discount)
      c.pax.currencyCode.push(p.price.currencyCode)
    }
  }
  return c
}

export function summarize(slots: readonly PartnerSlot[]): DaySummary {
  let last: string | null = null
  let total = 0
  for (const s of slots) {
    if (last === null || s.startTime > last) last = s.startTime
    total += s.remaining
  }
  return { slotCount: slots.length, lastSlotStart: last, totalRemaining: total }
}

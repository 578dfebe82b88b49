import { describe, expect, it } from 'vitest'
import { dayPrice, daySlotsView, slotClientPrice } from '../../server/availability/precompute.ts'
import { choosePrimary } from '../../server/availability/pricing.ts'
import type { PartnerPax, PartnerSlot } from '../../server/partner/schema.ts'

const D = '2026-12-01'

function pax(type: string, final: string, over: Partial<PartnerPax> = {}): PartnerPax {
  return {
    type,
    name: type,
    description: '',
    isPrimary: false,
    min: 0,
    max: 10,
    remaining: 10,
    price: { discount: '0.00', finalPrice: final, originalPrice: final, currencyCode: 'SGD' },
    ...over,
  }
}

function slot(startTime: string, paxAvailability: PartnerPax[], remaining = 5): PartnerSlot {
  return { startDate: D, startTime, endTime: startTime, providerSlotId: `S${startTime}`, remaining, currencyCode: 'SGD', variantId: 1, paxAvailability }
}

const withCurrency = (p: PartnerPax, currencyCode: string, originalPrice = p.price.originalPrice): PartnerPax => ({
  ...p,
  price: { ...p.price, currencyCode, originalPrice },
})

describe('slotClientPrice', () => {
  it('is the flagged type, with its exact decimal text', () => {
    expect(slotClientPrice(slot('04:00', [pax('CHILD', '5.50'), pax('SENIOR', '80.10', { isPrimary: true }), pax('ADULT', '100.00')]))).toEqual({
      primaryType: 'SENIOR',
      price: { finalPrice: '80.10', originalPrice: '80.10', currencyCode: 'SGD' },
    })
  })

  it('is null for a slot without pax types', () => expect(slotClientPrice(slot('04:00', []))).toBeNull())

  it('picks what pricing.ts choosePrimary picks (the one definition of the rule)', () => {
    const types = [pax('Adult_x', '3.00'), pax('CHILD', '2.00'), pax('B', '2.00'), pax('A', '9.99', { isPrimary: true })]
    for (let n = 1; n <= types.length; n++) {
      const s = slot('04:00', types.slice(0, n))
      const expected = choosePrimary(
        s.paxAvailability.map((p) => ({
          type: p.type,
          isPrimary: p.isPrimary,
          price: { finalPrice: Number(p.price.finalPrice), originalPrice: 0, currencyCode: '' },
        })),
      )
      expect(slotClientPrice(s)?.primaryType).toBe(expected?.type)
    }
  })
})

describe('dayPrice', () => {
  const priced = (slots: PartnerSlot[]) => dayPrice(slots, slots.map(slotClientPrice))

  it('a closed day (no slots) is not open', () => expect(priced([])).toEqual({ open: false, lowest: null }))

  it('ignores sold-out slots, however cheap', () => {
    const r = priced([slot('04:00', [pax('ADULT', '1.00')], 0), slot('05:00', [pax('ADULT', '50.00')])])
    expect(r).toEqual({ open: true, lowest: { finalPrice: '50.00', originalPrice: '50.00', currencyCode: 'SGD' } })
  })

  it('a day whose slots are all sold out is not open', () => expect(priced([slot('04:00', [pax('ADULT', '1.00')], 0)]).open).toBe(false))

  it('slots without pax types have no price and do not open a day', () => expect(priced([slot('04:00', [], 9)])).toEqual({ open: false, lowest: null }))

  it('takes the lowest slot price (the primary price, not the cheapest pax type)', () => {
    const r = priced([slot('04:00', [pax('ADULT', '30.00'), pax('CHILD', '1.00')]), slot('05:00', [pax('ADULT', '20.00'), pax('CHILD', '15.00')])])
    expect(r.lowest?.finalPrice).toBe('20.00')
  })

  it('compares money as numbers, not text', () =>
    expect(priced([slot('04:00', [pax('ADULT', '100.00')]), slot('05:00', [pax('ADULT', '9.00')])]).lowest?.finalPrice).toBe('9.00'))

  it('across currencies the lowest number wins; ties go to the lower original price, then the currency code', () => {
    const a = slot('04:00', [withCurrency(pax('ADULT', '10.00'), 'USD', '12.00')])
    const b = slot('05:00', [withCurrency(pax('ADULT', '10.00'), 'SGD', '11.00')])
    const c = slot('06:00', [withCurrency(pax('ADULT', '10.00'), 'EUR', '11.00')])
    for (const order of [
      [a, b, c],
      [c, b, a],
      [b, a, c],
    ]) {
      expect(priced(order).lowest).toEqual({ finalPrice: '10.00', originalPrice: '11.00', currencyCode: 'EUR' })
    }
  })
})

describe('daySlotsView', () => {
  const view = (slots: PartnerSlot[]) => daySlotsView(D, slots, slots.map(slotClientPrice))

  it('orders slots by start time, then slot id, in code point order (UTF-16 order differs above U+FFFF)', () => {
    const at = (startTime: string, providerSlotId: string) => ({ ...slot(startTime, []), providerSlotId })
    const v = view([at('10:00', 'b'), at('09:00', 'z'), at('10:00', '\uFF21'), at('10:00', '😀'), at('10:00', 'B')])
    expect(v.map((s) => `${s.startTime} ${s.providerSlotId}`)).toEqual(['09:00 z', '10:00 B', '10:00 b', '10:00 \uFF21', '10:00 😀'])
  })

  it('lists the primary type first (flagged or not), then the rest by type; the slot shows its price as JSON numbers', () => {
    const [s] = view([slot('04:00', [pax('😀', '1.00'), pax('CHILD', '5.50'), pax('adult', '10.10'), pax('\uFF21', '2.00')])])
    expect(s!.paxAvailability.map((p) => p.type)).toEqual(['adult', 'CHILD', '\uFF21', '😀'])
    expect(s!.price).toEqual({ finalPrice: 10.1, currencyCode: 'SGD', originalPrice: 10.1 })
    const [flagged] = view([slot('04:00', [pax('ADULT', '10.00'), pax('SENIOR', '7.00', { isPrimary: true })])])
    expect(flagged!.paxAvailability.map((p) => p.type)).toEqual(['SENIOR', 'ADULT'])
  })

  it("has the answer's fields in the answer's order, and null price for a slot without pax", () => {
    const [s] = view([slot('04:00', [pax('ADULT', '242.10')])])
    expect(JSON.stringify(s)).toBe(
      '{"startTime":"04:00","startDate":"2026-12-01","endTime":"04:00","providerSlotId":"S04:00","price":{"finalPrice":242.1,"currencyCode":"SGD","originalPrice":242.1},"remaining":5,' +
        '"paxAvailability":[{"type":"ADULT","name":"ADULT","description":"","price":{"finalPrice":242.1,"currencyCode":"SGD","originalPrice":242.1},"min":0,"max":10,"remaining":10,"isPrimary":false}]}',
    )
    expect(view([slot('04:00', [])])[0]!.price).toBeNull()
  })
})

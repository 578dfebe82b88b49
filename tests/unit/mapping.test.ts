import { describe, expect, it } from 'vitest'
import { validateDay } from '../../server/partner/schema.ts'
import { summarize, toColumns } from '../../server/sync/mapping.ts'
import { rawSlot, validSlots } from '../helpers/partner-data.ts'

const D = '2026-12-01'

describe('partner day → columns', () => {
  it('flattens slots and pax into parallel arrays, money as decimal strings', () => {
    const c = toColumns(validSlots(D, [rawSlot(D, '04:00'), rawSlot(D, '04:30', { remaining: 3 })]))
    expect(c.slots.providerSlotId).toEqual([`P14_${D}T04:00`, `P14_${D}T04:30`])
    expect(c.slots.remaining).toEqual([2000, 3])
    expect(c.pax.providerSlotId).toHaveLength(4)
    expect(c.pax.finalPrice).toEqual(['242.14', '180.50', '242.14', '180.50'])
    expect(c.pax.isPrimary).toEqual([true, false, true, false])
    expect(c.pax.description[1]).toBe('3 to 11 years')
  })

  it('summarizes the last start time and remaining seats', () => {
    expect(summarize(validSlots(D, [rawSlot(D, '07:30', { remaining: 1 }), rawSlot(D, '04:00', { remaining: 2 })]))).toEqual({
      slotCount: 2,
      lastSlotStart: '07:30',
      totalRemaining: 3,
    })
    expect(summarize([])).toEqual({ slotCount: 0, lastSlotStart: null, totalRemaining: 0 })
  })
})

describe('validateDay rejects bad partner data per day, with a reason', () => {
  const cases: [string, unknown, RegExp][] = [
    ['negative remaining', [rawSlot(D, '04:00', { remaining: -1 })], /0\.remaining: must not be negative/],
    ['a missing field', [{ ...rawSlot(D, '04:00'), providerSlotId: undefined }], /0\.providerSlotId/],
    ['a wrong type', [{ ...rawSlot(D, '04:00'), remaining: '5' }], /0\.remaining/],
    ['duplicate slot ids', [rawSlot(D, '04:00'), rawSlot(D, '04:30', { providerSlotId: `P14_${D}T04:00` })], /duplicate/],
    ['another date', [rawSlot('2026-12-02', '04:00')], /not the day asked for/],
    [
      'three-decimal price',
      [
        {
          ...rawSlot(D, '04:00'),
          paxAvailability: [{ ...rawSlot(D, '04:00').paxAvailability[0]!, price: { discount: 0, finalPrice: 1.005, originalPrice: 1, currencyCode: 'SGD' } }],
        },
      ],
      /two decimals/,
    ],
    ['not an array', { slots: [] }, /body/],
    ['a bad time', [rawSlot(D, '4:00')], /startTime/],
  ]
  it.each(cases)('%s', (_name, body, reason) => {
    const v = validateDay(body, D)
    expect(v.ok).toBe(false)
    if (!v.ok) expect(v.reason).toMatch(reason)
  })

  it('accepts an empty day and the contract sample', () => {
    expect(validateDay([], D)).toEqual({ ok: true, slots: [] })
    expect(validateDay([rawSlot(D, '04:00')], D).ok).toBe(true)
  })
})

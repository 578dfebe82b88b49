import { zAvailability, zAvailabilityCalendar, zProduct } from '@octocloud/types'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { PaxRow, RangeSlotRow } from '../../server/availability/queries.ts'
import type { ProductSummary } from '../../server/availability/service.ts'
import { addDays } from '../../server/calendar/days.ts'
import {
  availabilityId,
  lowestUnitPrices,
  octoAvailabilities,
  octoAvailability,
  octoCalendar,
  octoProduct,
  unitAges,
  unitType,
  zonedTime,
} from '../../server/octo/mapping.ts'
import { calendarDaysOf } from '../helpers/calendar-days.ts'

const pax = (type: string, finalPrice: string, over: Partial<PaxRow> = {}): PaxRow => ({
  type,
  name: type.split('_')[0]!,
  description: '',
  isPrimary: false,
  min: 0,
  max: 10,
  remaining: 10,
  finalPrice,
  originalPrice: finalPrice,
  currencyCode: 'SGD',
  ...over,
})
const slot = (date: string, startTime: string, remaining: number, p: PaxRow[] = [pax('ADULT_12~99', '100.00')], endTime = startTime): RangeSlotRow => ({
  date,
  startTime,
  endTime,
  providerSlotId: `${date}T${startTime}`,
  remaining,
  pax: p,
})
const horizon = { today: '2026-12-01', last: '2027-01-29' }

describe('unit type and ages from the partner pax type', () => {
  it.each([
    ['ADULT_12~99', 'ADULT', 12, 99],
    ['CHILD_3~11', 'CHILD', 3, 11],
    ['child', 'CHILD', 0, 100],
    ['INFANT_0~2', 'INFANT', 0, 2],
    ['SENIOR_65~120', 'SENIOR', 65, 120],
    ['YOUTH_13~17', 'YOUTH', 13, 17],
    ['FAMILY', 'FAMILY', 0, 100],
    ['STUDENT_x', 'STUDENT', 0, 100],
    ['MILITARY', 'MILITARY', 0, 100],
    ['VIP_18~99', 'OTHER', 18, 99],
    ['Adults', 'ADULT', 0, 100],
    ['CHILDREN_2~12', 'CHILD', 2, 12],
    ['GUEST', 'OTHER', 0, 100],
    ['~5', 'OTHER', 0, 100],
    ['', 'OTHER', 0, 100],
  ])('%s → %s, %i to %i', (type, expected, minAge, maxAge) => {
    expect(unitType(type)).toBe(expected)
    expect(unitAges(type)).toEqual({ minAge, maxAge })
  })
})

describe('zonedTime: the offset in force, on both sides of a DST change', () => {
  it.each([
    // Europe/Amsterdam springs forward on the last Sunday of March (2027-03-28, 02:00 → 03:00)
    ['2027-03-27', '09:30', 'Europe/Amsterdam', '2027-03-27T09:30:00+01:00', '2027-03-27T08:30:00Z'],
    ['2027-03-28', '01:59', 'Europe/Amsterdam', '2027-03-28T01:59:00+01:00', '2027-03-28T00:59:00Z'],
    ['2027-03-28', '09:30', 'Europe/Amsterdam', '2027-03-28T09:30:00+02:00', '2027-03-28T07:30:00Z'],
    // 02:30 does not exist that night: the instant just after the gap
    ['2027-03-28', '02:30', 'Europe/Amsterdam', '2027-03-28T03:30:00+02:00', '2027-03-28T01:30:00Z'],
    // …and falls back on the last Sunday of October (2026-10-25, 03:00 → 02:00)
    ['2026-10-24', '09:30', 'Europe/Amsterdam', '2026-10-24T09:30:00+02:00', '2026-10-24T07:30:00Z'],
    ['2026-10-25', '02:30', 'Europe/Amsterdam', '2026-10-25T02:30:00+02:00', '2026-10-25T00:30:00Z'],
    ['2026-10-25', '09:30', 'Europe/Amsterdam', '2026-10-25T09:30:00+01:00', '2026-10-25T08:30:00Z'],
    ['2026-12-01', '09:30', 'Asia/Singapore', '2026-12-01T09:30:00+08:00', '2026-12-01T01:30:00Z'],
    ['2026-12-01', '04:00', 'Asia/Singapore', '2026-12-01T04:00:00+08:00', '2026-11-30T20:00:00Z'],
    ['2026-07-01', '23:45', 'America/New_York', '2026-07-01T23:45:00-04:00', '2026-07-02T03:45:00Z'],
    ['2026-12-01', '10:00', 'Asia/Kathmandu', '2026-12-01T10:00:00+05:45', '2026-12-01T04:15:00Z'],
    ['2026-12-01', '00:00', 'UTC', '2026-12-01T00:00:00+00:00', '2026-12-01T00:00:00Z'],
  ])('%s %s in %s → %s, cut-off %s', (date, time, tz, local, utc) => {
    expect(zonedTime(date, time, tz)).toEqual({ local, utc })
  })

  it('always writes an instant the local text names, with whole seconds in UTC', () => {
    const zones = ['Europe/Amsterdam', 'America/Santiago', 'Australia/Lord_Howe', 'Asia/Singapore', 'America/St_Johns', 'Pacific/Chatham']
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 800 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.constantFrom(...zones),
        (d, h, m, tz) => {
          const date = addDays('2026-01-01', d)
          const t = zonedTime(date, `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`, tz)
          expect(t.utc).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
          expect(t.local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00[+-]\d{2}:\d{2}$/)
          expect(Date.parse(t.local)).toBe(Date.parse(t.utc))
        },
      ),
      { numRuns: 1000 },
    )
  })
})

describe('octoProduct', () => {
  const summary: ProductSummary = {
    id: 14,
    timeZone: 'Asia/Singapore',
    startTimes: ['04:00', '09:30'],
    paxTypes: [
      { type: 'ADULT_12~99', name: 'Adult', min: 1, max: 1000 },
      { type: 'CHILD_3~11', name: 'Child', min: 0, max: 20 },
    ],
    currencies: ['SGD'],
  }

  it('is a valid OCTO Product with one DEFAULT option and a unit per pax type', () => {
    const p = octoProduct(summary, { pricing: false })
    expect(zProduct.safeParse(p).success).toBe(true)
    expect(p).toMatchObject({ id: '14', timeZone: 'Asia/Singapore', availabilityType: 'START_TIME', allowFreesale: false, locale: 'en' })
    expect(p).not.toHaveProperty('defaultCurrency')
    const option = p.options[0]!
    expect(option).toMatchObject({
      id: 'DEFAULT',
      default: true,
      availabilityLocalStartTimes: ['04:00', '09:30'],
      cancellationCutoff: '0 hours',
      restrictions: { minUnits: null, maxUnits: null },
    })
    expect(option.units).toEqual([
      {
        id: 'ADULT_12~99',
        internalName: 'Adult',
        reference: null,
        type: 'ADULT',
        restrictions: { minAge: 12, maxAge: 99, idRequired: false, minQuantity: 1, maxQuantity: 1000, paxCount: 1, accompaniedBy: [] },
        requiredContactFields: [],
      },
      {
        id: 'CHILD_3~11',
        internalName: 'Child',
        reference: null,
        type: 'CHILD',
        restrictions: { minAge: 3, maxAge: 11, idRequired: false, minQuantity: 0, maxQuantity: 20, paxCount: 1, accompaniedBy: [] },
        requiredContactFields: [],
      },
    ])
  })

  it('adds currencies and pricingPer with octo/pricing', () => {
    const p = octoProduct({ ...summary, currencies: ['JPY', 'SGD'] }, { pricing: true })
    expect(zProduct.safeParse(p).success).toBe(true)
    expect(p).toMatchObject({ defaultCurrency: 'JPY', availableCurrencies: ['JPY', 'SGD'], pricingPer: 'UNIT' })
  })

  it('stays valid for a product with nothing stored yet (the specification wants a start time)', () => {
    const p = octoProduct({ ...summary, startTimes: [], paxTypes: [], currencies: [] }, { pricing: true })
    expect(zProduct.safeParse(p).success).toBe(true)
    expect(p.options[0]!.availabilityLocalStartTimes).toEqual(['00:00'])
    expect(p).not.toHaveProperty('defaultCurrency')
  })
})

describe('octoCalendar', () => {
  const stored = {
    horizon,
    slots: [
      slot('2026-12-01', '04:00', 0),
      slot('2026-12-01', '09:30', 5, [pax('ADULT_12~99', '120.00'), pax('CHILD_3~11', '80.00')]),
      slot('2026-12-01', '12:00', 7, [pax('ADULT_12~99', '110.50', { originalPrice: '130.00' }), pax('CHILD_3~11', '90.00')]),
      slot('2026-12-02', '09:30', 0, [pax('ADULT_12~99', '99.00')]),
      slot('2026-11-30', '09:30', 3), // stored but in the past: not served
    ],
  }
  // 2026-12-03 was fetched and had nothing; 2026-12-04 was never fetched.
  const range = { horizon, days: calendarDaysOf(stored.slots, ['2026-12-03']) }

  it('one entry per day, in order, with status, vacancies and availability', () => {
    const days = octoCalendar(range, '2026-11-30', '2026-12-03', { pricing: false })
    expect(days.map((d) => [d.localDate, d.status, d.available, d.vacancies])).toEqual([
      ['2026-11-30', 'CLOSED', false, 0],
      ['2026-12-01', 'AVAILABLE', true, 7],
      ['2026-12-02', 'SOLD_OUT', false, 0],
      ['2026-12-03', 'CLOSED', false, 0],
    ])
    for (const d of days) {
      expect(zAvailabilityCalendar.safeParse(d).success).toBe(true)
      expect(d).toMatchObject({ capacity: null, openingHours: [] })
      expect(d).not.toHaveProperty('unitPricingFrom')
    }
  })

  it('days beyond the horizon are CLOSED even with stored slots', () => {
    const days = octoCalendar({ horizon, days: calendarDaysOf([slot('2027-01-30', '09:30', 9)], ['2027-01-29']) }, '2027-01-29', '2027-01-30', {
      pricing: false,
    })
    expect(days.map((d) => d.status)).toEqual(['CLOSED', 'CLOSED'])
  })

  it('a day of the horizon never fetched is left out, never CLOSED; a day before or beyond it stays CLOSED', () => {
    const days = octoCalendar(range, '2026-11-29', '2026-12-05', { pricing: true })
    expect(days.map((d) => [d.localDate, d.status])).toEqual([
      ['2026-11-29', 'CLOSED'],
      ['2026-11-30', 'CLOSED'],
      ['2026-12-01', 'AVAILABLE'],
      ['2026-12-02', 'SOLD_OUT'],
      ['2026-12-03', 'CLOSED'],
    ])
    // Nothing fetched at all: an empty calendar, not 60 closed days.
    expect(octoCalendar({ horizon, days: [] }, horizon.today, horizon.last, { pricing: false })).toEqual([])
    const beyond = octoCalendar({ horizon, days: [] }, horizon.last, addDays(horizon.last, 2), { pricing: false })
    expect(beyond.map((d) => d.localDate)).toEqual([addDays(horizon.last, 1), addDays(horizon.last, 2)])
  })

  it("with pricing: each unit from its lowest price among the day's slots, sold out or not (the contract's words)", () => {
    const [, dec1, dec2] = octoCalendar(range, '2026-11-30', '2026-12-02', { pricing: true })
    expect(dec1!.unitPricingFrom).toEqual([
      { unitId: 'ADULT_12~99', retail: 10000, original: 10000, net: null, currency: 'SGD', currencyPrecision: 2, includedTaxes: [] },
      { unitId: 'CHILD_3~11', retail: 8000, original: 8000, net: null, currency: 'SGD', currencyPrecision: 2, includedTaxes: [] },
    ])
    // A sold-out day still says what it costs.
    expect(dec2!.unitPricingFrom!.map((u) => u.retail)).toEqual([9900])
    expect(zAvailabilityCalendar.safeParse(dec1).success).toBe(true)
  })

  it('lowestUnitPrices breaks a retail tie by the lower original', () => {
    const prices = lowestUnitPrices([
      slot('2026-12-01', '09:00', 1, [pax('A', '10.00', { originalPrice: '12.00' })]),
      slot('2026-12-01', '10:00', 1, [pax('A', '10.00', { originalPrice: '11.00' })]),
    ])
    expect(prices).toMatchObject([{ retail: 1000, original: 1100 }])
  })
})

describe('octoAvailability', () => {
  it('maps a slot: id = local start with offset, end, status, cut-off in UTC', () => {
    const a = octoAvailability(slot('2026-12-01', '09:30', 5, undefined, '11:00'), 'Asia/Singapore', { pricing: false })
    expect(a).toEqual({
      id: '2026-12-01T09:30:00+08:00',
      localDateTimeStart: '2026-12-01T09:30:00+08:00',
      localDateTimeEnd: '2026-12-01T11:00:00+08:00',
      allDay: false,
      available: true,
      status: 'AVAILABLE',
      vacancies: 5,
      capacity: null,
      maxUnits: null,
      utcCutoffAt: '2026-12-01T01:30:00Z',
      openingHours: [],
    })
    expect(zAvailability.safeParse(a).success).toBe(true)
  })

  it('end defaults to the start; an end before the start is the next day', () => {
    expect(octoAvailability(slot('2026-12-01', '09:30', 0), 'Asia/Singapore', { pricing: false })).toMatchObject({
      localDateTimeEnd: '2026-12-01T09:30:00+08:00',
      status: 'SOLD_OUT',
      available: false,
    })
    expect(octoAvailability(slot('2026-12-01', '23:00', 1, undefined, '01:00'), 'Asia/Singapore', { pricing: false }).localDateTimeEnd).toBe(
      '2026-12-02T01:00:00+08:00',
    )
  })

  it('with pricing: unitPricing per pax type and, for units asked, their total', () => {
    const s = slot('2026-12-01', '09:30', 5, [
      pax('ADULT_12~99', '3500.00', { currencyCode: 'JPY', originalPrice: '4000.00' }),
      pax('CHILD_3~11', '1800.00', { currencyCode: 'JPY' }),
    ])
    const a = octoAvailability(s, 'Asia/Tokyo', {
      pricing: true,
      units: [
        { id: 'ADULT_12~99', quantity: 2 },
        { id: 'CHILD_3~11', quantity: 1 },
      ],
    })
    expect(a.unitPricing).toEqual([
      { unitId: 'ADULT_12~99', retail: 3500, original: 4000, net: null, currency: 'JPY', currencyPrecision: 0, includedTaxes: [] },
      { unitId: 'CHILD_3~11', retail: 1800, original: 1800, net: null, currency: 'JPY', currencyPrecision: 0, includedTaxes: [] },
    ])
    expect(a.pricing).toEqual({ retail: 8800, original: 9800, net: null, currency: 'JPY', currencyPrecision: 0, includedTaxes: [] })
    expect(zAvailability.safeParse(a).success).toBe(true)
    // No pricing without the capability, and no total for a unit this slot does not sell.
    expect(octoAvailability(s, 'Asia/Tokyo', { pricing: false, units: [{ id: 'ADULT_12~99', quantity: 1 }] })).not.toHaveProperty('pricing')
    expect(octoAvailability(s, 'Asia/Tokyo', { pricing: true, units: [{ id: 'SENIOR', quantity: 1 }] })).not.toHaveProperty('pricing')
  })

  it('octoAvailabilities serves only horizon days of the range, in order', () => {
    const range = {
      horizon,
      timeZone: 'Asia/Singapore',
      slots: [slot('2026-11-30', '09:00', 1), slot('2026-12-01', '09:00', 1), slot('2026-12-01', '10:00', 1), slot('2026-12-02', '08:00', 1)],
    }
    expect(octoAvailabilities(range, '2026-11-30', '2026-12-01', { pricing: false }).map((a) => a.id)).toEqual([
      '2026-12-01T09:00:00+08:00',
      '2026-12-01T10:00:00+08:00',
    ])
    expect(availabilityId({ date: '2026-12-02', startTime: '08:00' }, 'Asia/Singapore')).toBe('2026-12-02T08:00:00+08:00')
  })
})

describe('every mapped object is valid OCTO, whatever the stored rows', () => {
  const decimal = fc.bigInt({ min: 0n, max: 999_999_999_999n }).map((c) => {
    const s = c.toString().padStart(3, '0')
    return `${s.slice(0, -2)}.${s.slice(-2)}`
  })
  const hhmm = fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`)
  const paxRow = fc.record({
    type: fc.string({ minLength: 1, maxLength: 20 }),
    finalPrice: decimal,
    originalPrice: decimal,
    currencyCode: fc.constantFrom('SGD', 'USD', 'JPY', 'BHD', 'EUR'),
    remaining: fc.nat(5000),
  })
  const slotRow = fc.record({
    day: fc.integer({ min: -3, max: 70 }),
    start: hhmm,
    end: hhmm,
    remaining: fc.nat(5000),
    pax: fc.uniqueArray(paxRow, { selector: (p) => p.type, maxLength: 4 }),
  })
  const zone = fc.constantFrom('Asia/Singapore', 'Europe/Amsterdam', 'America/New_York', 'Australia/Lord_Howe')

  it('calendar days and availabilities validate against @octocloud/types', () => {
    fc.assert(
      fc.property(fc.array(slotRow, { maxLength: 12 }), zone, fc.boolean(), (rows, tz, pricing) => {
        const slots = rows
          .map((r) =>
            slot(
              addDays(horizon.today, r.day),
              r.start,
              r.remaining,
              r.pax.map((p) => pax(p.type, p.finalPrice, p)),
              r.end,
            ),
          )
          .sort((a, b) => (a.date + a.startTime < b.date + b.startTime ? -1 : 1))
        const range = { horizon, timeZone: tz, slots }
        const from = addDays(horizon.today, -3)
        const to = addDays(horizon.today, 70)
        const cal = { horizon, days: calendarDaysOf(slots) }
        for (const d of octoCalendar(cal, from, to, { pricing })) expect(zAvailabilityCalendar.safeParse(d).error).toBeUndefined()
        const units = rows[0]?.pax.map((p) => ({ id: p.type, quantity: 2 }))
        for (const a of octoAvailabilities(range, from, to, { pricing, ...(units ? { units } : {}) })) expect(zAvailability.safeParse(a).error).toBeUndefined()
      }),
      { numRuns: 300 },
    )
  })
})

import { describe, expect, it } from 'vitest'
import { OctoError } from '../../server/octo/errors.ts'
import {
  appliedCapabilities,
  availabilityIdDate,
  oneYearAfter,
  parseAvailabilityRequest,
  parseCalendarRequest,
  productIdNumber,
} from '../../server/octo/requests.ts'

function refused(run: () => unknown): OctoError {
  try {
    run()
  } catch (err) {
    if (err instanceof OctoError) return err
    throw err
  }
  throw new Error('expected an OctoError')
}

const base = { productId: '14', optionId: 'DEFAULT' }

describe('parseCalendarRequest', () => {
  it('reads the range and units, ignoring unknown fields', () => {
    expect(
      parseCalendarRequest({
        ...base,
        localDateStart: '2026-12-01',
        localDateEnd: '2027-01-29',
        units: [{ id: 'ADULT', quantity: 2 }],
        currency: 'SGD',
        extra: 1,
      }),
    ).toEqual({
      ...base,
      localDateStart: '2026-12-01',
      localDateEnd: '2027-01-29',
      units: [{ id: 'ADULT', quantity: 2 }],
    })
  })

  it.each([
    [null, /body must be a JSON object/],
    [[], /body must be a JSON object/],
    ['x', /body must be a JSON object/],
    [{ optionId: 'DEFAULT', localDateStart: '2026-12-01', localDateEnd: '2026-12-02' }, /productId is required/],
    [{ productId: 14, optionId: 'DEFAULT', localDateStart: '2026-12-01', localDateEnd: '2026-12-02' }, /productId must be a string/],
    [{ productId: '14', localDateStart: '2026-12-01', localDateEnd: '2026-12-02' }, /optionId is required/],
    [{ ...base, localDateEnd: '2026-12-02' }, /localDateStart is required/],
    [{ ...base, localDateStart: '2026-12-01' }, /localDateEnd is required/],
    [{ ...base, localDateStart: '2026-12-1', localDateEnd: '2026-12-02' }, /localDateStart must be a date written YYYY-MM-DD/],
    [{ ...base, localDateStart: '2026-02-30', localDateEnd: '2026-12-02' }, /localDateStart is not a real calendar day/],
    [{ ...base, localDateStart: '2026-12-02', localDateEnd: '2026-12-01' }, /localDateEnd \(2026-12-01\) is before localDateStart/],
    [{ ...base, localDateStart: '2026-12-01', localDateEnd: '2027-12-02' }, /over one year/],
    [{ ...base, localDateStart: '2026-12-01', localDateEnd: '2026-12-02', units: {} }, /units must be an array/],
    [{ ...base, localDateStart: '2026-12-01', localDateEnd: '2026-12-02', units: [{ id: 1, quantity: 1 }] }, /units\[0\]\.id must be a string/],
    [{ ...base, localDateStart: '2026-12-01', localDateEnd: '2026-12-02', units: [{ id: 'A', quantity: 1.5 }] }, /units\[0\]\.quantity must be a whole number/],
    [{ ...base, localDateStart: '2026-12-01', localDateEnd: '2026-12-02', units: [{ id: 'A', quantity: -1 }] }, /units\[0\]\.quantity/],
  ])('%j → BAD_REQUEST naming the field', (body, message) => {
    const err = refused(() => parseCalendarRequest(body))
    expect(err.code).toBe('BAD_REQUEST')
    expect(err.status).toBe(400)
    expect(err.message).toMatch(message)
  })

  it('allows exactly one year, not a day more', () => {
    expect(parseCalendarRequest({ ...base, localDateStart: '2026-12-01', localDateEnd: '2027-12-01' }).localDateEnd).toBe('2027-12-01')
    expect(refused(() => parseCalendarRequest({ ...base, localDateStart: '2026-12-01', localDateEnd: '2027-12-02' })).code).toBe('BAD_REQUEST')
    expect(oneYearAfter('2028-02-29')).toBe('2029-02-28')
    expect(oneYearAfter('2026-03-01')).toBe('2027-03-01')
  })
})

describe('parseAvailabilityRequest: exactly one selector', () => {
  it('localDate is a one-day range', () => {
    expect(parseAvailabilityRequest({ ...base, localDate: '2026-12-01' }).selector).toEqual({
      kind: 'range',
      localDateStart: '2026-12-01',
      localDateEnd: '2026-12-01',
    })
  })
  it('a range', () => {
    expect(parseAvailabilityRequest({ ...base, localDateStart: '2026-12-01', localDateEnd: '2026-12-03' }).selector).toEqual({
      kind: 'range',
      localDateStart: '2026-12-01',
      localDateEnd: '2026-12-03',
    })
  })
  it('availability ids (null selectors count as absent)', () => {
    expect(parseAvailabilityRequest({ ...base, availabilityIds: ['2026-12-01T09:30:00+08:00'], localDate: null }).selector).toEqual({
      kind: 'ids',
      availabilityIds: ['2026-12-01T09:30:00+08:00'],
    })
  })

  it.each([
    [{ ...base }, /missing selectors/],
    [{ ...base, localDate: '2026-12-01', localDateStart: '2026-12-01', localDateEnd: '2026-12-02' }, /mixed selectors/],
    [{ ...base, localDate: '2026-12-01', availabilityIds: ['x'] }, /mixed selectors/],
    [{ ...base, localDateStart: '2026-12-01', availabilityIds: ['x'] }, /mixed selectors/],
    [{ ...base, localDateStart: '2026-12-01' }, /localDateEnd is required/],
    [{ ...base, availabilityIds: [] }, /1 to 100 ids, got 0/],
    [{ ...base, availabilityIds: Array.from({ length: 101 }, (_, i) => String(i)) }, /1 to 100 ids, got 101/],
    [{ ...base, availabilityIds: 'x' }, /availabilityIds must be an array of strings/],
    [{ ...base, availabilityIds: [1] }, /availabilityIds must be an array of strings/],
    [{ ...base, localDate: 20261201 }, /localDate must be a string/],
  ])('%j → BAD_REQUEST', (body, message) => {
    const err = refused(() => parseAvailabilityRequest(body))
    expect(err.code).toBe('BAD_REQUEST')
    expect(err.message).toMatch(message)
  })

  it('takes 100 ids', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `id${i}`)
    expect(parseAvailabilityRequest({ ...base, availabilityIds: ids }).selector).toEqual({ kind: 'ids', availabilityIds: ids })
  })
})

describe('ids and headers', () => {
  it('productIdNumber: a positive int4 in text, else INVALID_PRODUCT_ID with the id', () => {
    expect(productIdNumber('14')).toBe(14)
    expect(productIdNumber('2147483647')).toBe(2147483647)
    for (const bad of ['0', '014', '-1', '14.0', 'abc', '', '2147483648', '99999999999', ' 14']) {
      const err = refused(() => productIdNumber(bad))
      expect(err.code).toBe('INVALID_PRODUCT_ID')
      expect(err.extra).toEqual({ productId: bad })
    }
  })

  it('availabilityIdDate reads the day of a well-formed id only', () => {
    expect(availabilityIdDate('2026-12-01T09:30:00+08:00')).toBe('2026-12-01')
    expect(availabilityIdDate('2026-10-25T02:30:00-02:00')).toBe('2026-10-25')
    for (const bad of ['2026-12-01', '2026-02-30T09:30:00+08:00', '2026-12-01T09:30:00Z', 'x']) expect(availabilityIdDate(bad)).toBeUndefined()
  })

  it('appliedCapabilities keeps octo/pricing only', () => {
    expect(appliedCapabilities(undefined)).toEqual([])
    expect(appliedCapabilities('')).toEqual([])
    expect(appliedCapabilities('octo/content')).toEqual([])
    expect(appliedCapabilities('octo/content, octo/pricing')).toEqual(['octo/pricing'])
    expect(appliedCapabilities(['octo/questions', 'OCTO/Pricing'])).toEqual(['octo/pricing'])
  })
})

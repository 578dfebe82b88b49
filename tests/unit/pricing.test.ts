import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { choosePrimary, compareCodePoints, isAdultType, primaryRank, type PricedPax } from '../../server/availability/pricing.ts'

const pax = (type: string, finalPrice: number, isPrimary = false, originalPrice = finalPrice): PricedPax => ({
  type,
  isPrimary,
  price: { finalPrice, originalPrice, currencyCode: 'SGD' },
})

describe('isAdultType', () => {
  it.each([
    ['ADULT', true],
    ['ADULT_12~99', true],
    ['adult_senior', true],
    ['Adult', true],
    ['ADUL', false],
    ['CHILD_3~11', false],
    ['YOUNG_ADULT', false],
    ['', false],
  ])('%s → %s', (type, expected) => expect(isAdultType(type)).toBe(expected))
})

describe('primaryRank', () => {
  it('ranks a flagged type first whatever its name', () => expect(primaryRank(pax('CHILD', 1, true))).toBe(0))
  it('ranks an unflagged ADULT type second', () => expect(primaryRank(pax('ADULT_12~99', 1))).toBe(1))
  it('ranks everything else last', () => expect(primaryRank(pax('INFANT', 0))).toBe(2))
})

describe('choosePrimary', () => {
  it('is undefined for a slot without pax types', () => expect(choosePrimary([])).toBeUndefined())
  it('takes the only type there is', () => expect(choosePrimary([pax('CHILD', 5)])?.type).toBe('CHILD'))
  it('takes the flagged type over an ADULT type', () => expect(choosePrimary([pax('ADULT', 100), pax('SENIOR', 80, true)])?.type).toBe('SENIOR'))
  it('takes the flagged type even when it is the most expensive', () =>
    expect(choosePrimary([pax('CHILD', 1), pax('VIP', 999, true), pax('INFANT', 0)])?.type).toBe('VIP'))
  it('takes the flagged type wherever it is in the list', () =>
    expect(choosePrimary([pax('CHILD_3~11', 180.5), pax('INFANT', 0), pax('ADULT_12~99', 242.14, true)])?.type).toBe('ADULT_12~99'))
  it('with none flagged, takes the ADULT type over cheaper ones', () =>
    expect(choosePrimary([pax('CHILD_3~11', 180.5), pax('ADULT_12~99', 242.14), pax('INFANT_0~4', 0)])?.type).toBe('ADULT_12~99'))
  it('with several ADULT types, takes the first by type, not the cheapest', () =>
    expect(choosePrimary([pax('ADULT_SENIOR', 10), pax('ADULT_12~64', 50)])?.type).toBe('ADULT_12~64'))
  it('matches ADULT case-insensitively', () => expect(choosePrimary([pax('CHILD', 1), pax('Adult', 50)])?.type).toBe('Adult'))
  it('with none flagged and no ADULT, takes the cheapest', () =>
    expect(choosePrimary([pax('CHILD_5~15', 20), pax('STUDENT', 15), pax('SENIOR', 18)])?.type).toBe('STUDENT'))
  it('a free type is the cheapest', () => expect(choosePrimary([pax('CHILD', 20), pax('INFANT_0~4', 0)])?.type).toBe('INFANT_0~4'))
  it('breaks a price tie by type', () => expect(choosePrimary([pax('SENIOR', 15), pax('CHILD', 15)])?.type).toBe('CHILD'))
  it('compares prices as numbers, not text', () => expect(choosePrimary([pax('A', 100), pax('B', 20)])?.type).toBe('B'))
  it('with two flagged types, takes the first by type', () => expect(choosePrimary([pax('Z', 1, true), pax('B', 2, true)])?.type).toBe('B'))
  it('does not depend on the order it is given', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            type: fc.string({ minLength: 1, maxLength: 6 }),
            finalPrice: fc.integer({ min: 0, max: 10_000 }).map((c) => c / 100),
            isPrimary: fc.boolean(),
          }),
          {
            selector: (p) => p.type,
            minLength: 1,
            maxLength: 6,
          },
        ),
        (raw) => {
          const ps = raw.map((r) => pax(r.type, r.finalPrice, r.isPrimary))
          expect(choosePrimary([...ps].reverse())?.type).toBe(choosePrimary(ps)?.type)
        },
      ),
    )
  })
})

describe('compareCodePoints', () => {
  it.each([
    ['a', 'a', 0],
    ['a', 'b', -1],
    ['b', 'a', 1],
    ['a', 'ab', -1],
    ['ab', 'a', 1],
    ['', 'a', -1],
    ['Z', 'a', -1],
  ])('%s vs %s', (a, b, sign) => expect(Math.sign(compareCodePoints(a, b))).toBe(sign))
  it('orders astral characters after U+FFFF like UTF-8 bytes do', () => {
    expect(compareCodePoints('\u{1F600}', '\uFFFD')).toBeGreaterThan(0)
    expect('\u{1F600}' < '\uFFFD').toBe(true) // what UTF-16 order would have said
  })
})

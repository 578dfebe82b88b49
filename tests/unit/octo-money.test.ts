import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { currencyPrecision, octoPricing, sumPricing, timesQuantity, toMinorUnits } from '../../server/octo/money.ts'

describe('currencyPrecision (ISO 4217 digits via Intl)', () => {
  it.each([
    ['SGD', 2],
    ['USD', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['BHD', 3],
    ['EUR', 2],
  ])('%s has %i digits', (code, digits) => {
    expect(currencyPrecision(code)).toBe(digits)
  })

  it('falls back to 2 for a code that is not well formed', () => {
    expect(currencyPrecision('not a code')).toBe(2)
  })
})

describe('toMinorUnits', () => {
  it.each([
    ['242.14', 2, 24214],
    ['0.10', 2, 10],
    ['0.1', 2, 10],
    ['0.07', 2, 7],
    ['180.5', 2, 18050],
    ['1500.00', 0, 1500],
    ['1500', 0, 1500],
    ['12.345', 3, 12345],
    ['1.005', 2, 101],
    ['1500.50', 0, 1501],
    ['1500.49', 0, 1500],
    ['9999999999.99', 2, 999999999999],
    ['0', 2, 0],
  ])('%s with %i digits → %i', (text, digits, expected) => {
    expect(toMinorUnits(text, digits)).toBe(expected)
  })

  it('is exact where a float is not (0.29 × 100 = 28.999999999999996 in binary)', () => {
    expect(0.29 * 100).not.toBe(29)
    expect(toMinorUnits('0.29', 2)).toBe(29)
    expect(toMinorUnits('1.15', 2)).toBe(115)
    expect(toMinorUnits('4.35', 2)).toBe(435)
  })

  it('agrees with the digit string itself for every two-decimal amount numeric(12,2) holds', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 999_999_999_999n }), (cents) => {
        const s = cents.toString().padStart(3, '0')
        const text = `${s.slice(0, -2)}.${s.slice(-2)}`
        expect(toMinorUnits(text, 2)).toBe(Number(cents))
        // The same amount in a currency without decimals rounds half away from zero.
        expect(toMinorUnits(text, 0)).toBe(Number(cents / 100n) + (cents % 100n >= 50n ? 1 : 0))
      }),
      { numRuns: 2000 },
    )
  })

  it('refuses what is not a decimal', () => {
    for (const bad of ['', 'abc', '1e3', '1,5', ' 1.5', 'NaN']) expect(() => toMinorUnits(bad, 2)).toThrow(RangeError)
  })
})

describe('octoPricing', () => {
  it('SGD: retail from finalPrice, original from originalPrice, 2 digits', () => {
    expect(octoPricing('242.14', '250.00', 'SGD')).toEqual({
      original: 25000,
      retail: 24214,
      net: null,
      currency: 'SGD',
      currencyPrecision: 2,
      includedTaxes: [],
    })
  })
  it('USD: 2 digits', () => {
    expect(octoPricing('19.99', '19.99', 'USD')).toMatchObject({ original: 1999, retail: 1999, currencyPrecision: 2 })
  })
  it('JPY: 0 digits', () => {
    expect(octoPricing('3500.00', '4000.00', 'JPY')).toMatchObject({ original: 4000, retail: 3500, currency: 'JPY', currencyPrecision: 0 })
  })
  it('never puts original below retail', () => {
    expect(octoPricing('100.00', '90.00', 'SGD')).toMatchObject({ original: 10000, retail: 10000 })
  })
  it('multiplies and sums in integers, and gives no total across currencies', () => {
    const adult = octoPricing('242.14', '242.14', 'SGD')
    const child = octoPricing('180.50', '200.00', 'SGD')
    expect(sumPricing([timesQuantity(adult, 2), timesQuantity(child, 3)])).toMatchObject({
      retail: 2 * 24214 + 3 * 18050,
      original: 2 * 24214 + 3 * 20000,
      currency: 'SGD',
    })
    expect(sumPricing([adult, octoPricing('10.00', '10.00', 'USD')])).toBeUndefined()
    expect(sumPricing([])).toBeUndefined()
  })
})

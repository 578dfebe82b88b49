/**
 * OCTO money: integers in the currency's minor unit, converted from the
 * stored decimal text with integer arithmetic only, so no binary floating
 * point value ever stands between the database and the answer.
 */

const digitsCache = new Map<string, number>()

/**
 * The currency's ISO 4217 minor-unit digits as the runtime's Intl data
 * resolves them (SGD, USD 2; JPY 0; BHD 3). A code Intl does not know gets
 * its default, 2.
 */
export function currencyPrecision(currency: string): number {
  let digits = digitsCache.get(currency)
  if (digits === undefined) {
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
    } catch {
      digits = 2 // not a well-formed code: never stored (the partner schema checks it), kept safe anyway
    }
    digitsCache.set(currency, digits)
  }
  return digits
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/

/**
 * "242.14" with 2 digits → 24214; "1500.00" with 0 → 1500. Digits beyond the
 * currency's precision (a yen price stored as "1500.50") are rounded half
 * away from zero, the usual commercial rule, since an integer minor unit
 * cannot hold them. Only digit strings are parsed (as integers, exact below
 * 2^53), so no fraction is ever held in binary floating point.
 */
export function toMinorUnits(decimal: string, digits: number): number {
  const m = DECIMAL.exec(decimal)
  if (!m) throw new RangeError(`not a decimal number: ${JSON.stringify(decimal)}`)
  const [, sign, whole, frac = ''] = m
  const kept = frac.length >= digits ? frac.slice(0, digits) : frac + '0'.repeat(digits - frac.length)
  const roundUp = frac.length > digits && frac[digits]! >= '5' ? 1 : 0
  const units = Number(whole + kept) + roundUp
  if (!Number.isSafeInteger(units)) throw new RangeError(`amount too large for an exact integer: ${decimal}`)
  return sign && units !== 0 ? -units : units
}

export interface OctoPricing {
  original: number
  retail: number
  net: null
  currency: string
  currencyPrecision: number
  includedTaxes: []
}

/** OCTO `Pricing` from the partner's final (retail) and original prices; original is never below retail. */
export function octoPricing(finalPrice: string, originalPrice: string, currency: string): OctoPricing {
  const digits = currencyPrecision(currency)
  const retail = toMinorUnits(finalPrice, digits)
  const original = Math.max(retail, toMinorUnits(originalPrice, digits))
  return { original, retail, net: null, currency, currencyPrecision: digits, includedTaxes: [] }
}

/** `quantity` of a price, exactly (integers). */
export function timesQuantity(p: OctoPricing, quantity: number): OctoPricing {
  return { ...p, original: p.original * quantity, retail: p.retail * quantity, includedTaxes: [] }
}

/** Sum of prices in one currency; undefined when they are in several (no total can be given). */
export function sumPricing(prices: readonly OctoPricing[]): OctoPricing | undefined {
  const first = prices[0]
  if (!first || prices.some((p) => p.currency !== first.currency)) return undefined
  const sum = { ...first, includedTaxes: [] as [] }
  for (const p of prices.slice(1)) {
    sum.original += p.original
    sum.retail += p.retail
  }
  return sum
}

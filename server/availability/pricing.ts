/**
 * Which price a client sees: the rules of docs/contracts/public-api.md, pure.
 *
 * The one definition: the snapshot writer applies it once per write
 * (precompute.ts) and reads serve what it chose. The migration that added
 * the stored price backfilled old rows with a one-time SQL translation, so
 * the order below is one SQL can express, ties included: rank (flagged, then
 * ADULT, then the rest), price only among the rest, then type in code point
 * order (Postgres `COLLATE "C"`).
 */
export interface Price {
  finalPrice: number
  currencyCode: string
  originalPrice: number
}

export interface PricedPax {
  type: string
  isPrimary: boolean
  price: Price
}

// ASCII-only on purpose: the backfill's upper(left(type, 5)) = 'ADULT' had to agree.
const ADULT = /^adult/i

export function isAdultType(type: string): boolean {
  return ADULT.test(type)
}

/** 0: flagged primary, 1: an ADULT type, 2: anything else. */
export function primaryRank(p: PricedPax): 0 | 1 | 2 {
  if (p.isPrimary) return 0
  return isAdultType(p.type) ? 1 : 2
}

/** Code point order, like Postgres' "C" collation on UTF-8 (UTF-16 `<` differs above U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0
  const ia = a[Symbol.iterator]()
  const ib = b[Symbol.iterator]()
  for (;;) {
    const x = ia.next()
    const y = ib.next()
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!
    if (d !== 0) return d
  }
}

function comparePrimary(a: PricedPax, b: PricedPax): number {
  const ra = primaryRank(a)
  const rb = primaryRank(b)
  if (ra !== rb) return ra - rb
  // Price decides only when nothing is flagged or ADULT: "else the cheapest".
  if (ra === 2 && a.price.finalPrice !== b.price.finalPrice) return a.price.finalPrice - b.price.finalPrice
  return compareCodePoints(a.type, b.type)
}

/** The pax type whose price is the slot's price; undefined for a slot without pax types. */
export function choosePrimary<P extends PricedPax>(pax: readonly P[]): P | undefined {
  let best: P | undefined
  for (const p of pax) if (best === undefined || comparePrimary(p, best) < 0) best = p
  return best
}

/**
 * Where shoppers read, for the simulation (bench/sync-sim.ts): a demand
 * model of (product, day) reads. Pure and seeded, so a run is repeatable and
 * the sampler's distribution is testable.
 *
 * - Products by a Zipf law of exponent 1: the product of popularity rank k
 *   is read in proportion to 1/k. Ranks are a seeded shuffle of the
 *   catalogue, not id order, so popularity is independent of anything the
 *   catalogue derives from an id (shape, zone, weekdays).
 * - Days by a harmonic law of lead time: a day `offset` days ahead is read in
 *   proportion to 1/(1 + offset) over the 60-day horizon. Shoppers look most
 *   at the next few days and thin out with a long tail rather than stopping
 *   (a geometric decay would leave the far days unread); it is the same
 *   shape as the product law, and its tier shares (today 21 %, days 1–7
 *   37 %, days 8–30 28 %, days 31–59 14 %: arithmetic of the law) are near
 *   the fixed mix the uniform reads sample (15 / 40 / 35 / 10 %), so the two
 *   sets of figures cover the horizon alike while the new one also weighs
 *   day 1 over day 7 within a tier.
 * A read's product and day are drawn independently.
 */
import { HORIZON_DAYS } from '../server/calendar/horizon.ts'

/** The law of products: Zipf exponent 1 (issue 27's demand model). */
export const ZIPF_EXPONENT = 1

/** Normalised weights of ranks 1..n under a Zipf law of exponent `s`. */
export function zipfWeights(n: number, s = ZIPF_EXPONENT): number[] {
  const raw = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s)
  const total = raw.reduce((a, b) => a + b, 0)
  return raw.map((w) => w / total)
}

/** Normalised weights of offsets 0..days-1: ∝ 1/(1 + offset). */
export function dayWeights(days = HORIZON_DAYS): number[] {
  return zipfWeights(days, 1)
}

/** A seeded Fisher–Yates shuffle: the popularity order of the catalogue. */
export function seededRanking<T>(items: readonly T[], rnd: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** Draws an index from normalised weights by inverse CDF (binary search over the cumulative sums). */
export function weightedSampler(weights: readonly number[]): (u: number) => number {
  const cum: number[] = []
  let acc = 0
  for (const w of weights) {
    acc += w
    cum.push(acc)
  }
  return (u) => {
    const x = u * acc
    let lo = 0
    let hi = cum.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cum[mid]! > x) hi = mid
      else lo = mid + 1
    }
    return lo
  }
}

export interface DemandRead {
  productId: number
  /** Days from the product's today (0..59). */
  offset: number
}

export interface DemandModel {
  /** One read drawn from the model with the stream `rnd`. */
  draw(rnd: () => number): DemandRead
  /** Probability that a read is of this product. */
  productShare(productId: number): number
  /** Probability that a read is of a day this many days ahead. */
  offsetShare(offset: number): number
  /** Products, most read first. */
  ranking: readonly number[]
}

/** The demand model over `productIds`, its popularity order shuffled by `rankRnd`. */
export function demandModel(productIds: readonly number[], rankRnd: () => number): DemandModel {
  const ranking = seededRanking(productIds, rankRnd)
  const pw = zipfWeights(ranking.length)
  const dw = dayWeights()
  const byProduct = new Map(ranking.map((id, i) => [id, pw[i]!]))
  const pickProduct = weightedSampler(pw)
  const pickDay = weightedSampler(dw)
  return {
    draw: (rnd) => ({ productId: ranking[pickProduct(rnd())]!, offset: pickDay(rnd()) }),
    productShare: (id) => byProduct.get(id) ?? 0,
    offsetShare: (off) => dw[off] ?? 0,
    ranking,
  }
}

/** Exponential gap (ms) to the next arrival of a Poisson process at `perHour`, from one uniform draw. */
export function poissonGapMs(perHour: number, u: number): number {
  return (Math.log(1 / (1 - u)) / perHour) * 3_600_000
}

import { describe, expect, it } from 'vitest'
import { dayWeights, demandModel, poissonGapMs, seededRanking, weightedSampler, zipfWeights } from '../../bench/sync-demand.ts'
import { seededRandom } from '../../server/sandbox/rng.ts'

describe('demand model of the simulation: where shoppers read', () => {
  it('Zipf exponent 1: rank k weighs 1/k, normalised', () => {
    const w = zipfWeights(4)
    const h = 1 + 1 / 2 + 1 / 3 + 1 / 4
    expect(w.map((x) => x * h)).toEqual([1, 1 / 2, 1 / 3, 1 / 4].map((x) => expect.closeTo(x, 12)))
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
  })

  it('days ∝ 1/(1 + offset) over the 60-day horizon: tier shares as the law gives them', () => {
    const w = dayWeights()
    expect(w).toHaveLength(60)
    const sum = (from: number, to: number) => w.slice(from, to + 1).reduce((a, b) => a + b, 0)
    expect(w[0]! / w[9]!).toBeCloseTo(10, 9)
    expect(sum(0, 0)).toBeCloseTo(0.2137, 3)
    expect(sum(1, 7)).toBeCloseTo(0.3671, 3)
    expect(sum(8, 30)).toBeCloseTo(0.2797, 3)
    expect(sum(31, 59)).toBeCloseTo(0.1395, 3)
  })

  it('the weighted sampler inverts the cumulative sums: each index gets exactly its interval of u', () => {
    const pick = weightedSampler([0.5, 0.25, 0.25])
    expect([0, 0.4999, 0.5, 0.7499, 0.75, 0.9999].map(pick)).toEqual([0, 0, 1, 1, 2, 2])
    expect(weightedSampler([0, 1])(0)).toBe(1)
  })

  it('the popularity order is a seeded shuffle, not id order, and the same for the same seed', () => {
    const ids = Array.from({ length: 50 }, (_, i) => 1000 + i)
    const a = seededRanking(ids, seededRandom(45))
    expect(a).toEqual(seededRanking(ids, seededRandom(45)))
    expect(a).not.toEqual(ids)
    expect([...a].sort()).toEqual(ids)
    expect(seededRanking(ids, seededRandom(46))).not.toEqual(a)
  })

  it('draws follow the model within tolerance: products by rank 1/k, days by 1/(1 + offset)', () => {
    const ids = Array.from({ length: 30 }, (_, i) => 1000 + i)
    const m = demandModel(ids, seededRandom(45))
    const rnd = seededRandom(7)
    const n = 200_000
    const byProduct = new Map<number, number>()
    const byOffset = new Array<number>(60).fill(0)
    for (let i = 0; i < n; i++) {
      const r = m.draw(rnd)
      byProduct.set(r.productId, (byProduct.get(r.productId) ?? 0) + 1)
      byOffset[r.offset]!++
    }
    const w = zipfWeights(30)
    // Binomial standard error at n = 200,000 is under 0.001 for every share: 4 of them is a tolerance no correct sampler misses.
    for (const [k, id] of m.ranking.entries()) expect(Math.abs((byProduct.get(id) ?? 0) / n - w[k]!)).toBeLessThan(0.004)
    expect((byProduct.get(m.ranking[0]!) ?? 0) / (byProduct.get(m.ranking[1]!) ?? 1)).toBeCloseTo(2, 1)
    for (const [off, p] of dayWeights().entries()) expect(Math.abs(byOffset[off]! / n - p)).toBeLessThan(0.004)
    expect(m.productShare(m.ranking[0]!)).toBeCloseTo(w[0]!, 12)
    expect(m.productShare(42)).toBe(0)
    expect(m.offsetShare(0)).toBeCloseTo(dayWeights()[0]!, 12)
  })

  it('live checks arrive as a Poisson process: exponential gaps with the stated mean', () => {
    expect(poissonGapMs(60, 0)).toBe(0)
    const rnd = seededRandom(3)
    let total = 0
    const n = 20_000
    for (let i = 0; i < n; i++) total += poissonGapMs(60, rnd())
    // Mean 60 s at 60 an hour; the standard error of the mean over 20,000 gaps is 0.42 s.
    expect(total / n / 1000).toBeGreaterThan(58)
    expect(total / n / 1000).toBeLessThan(62)
  })
})

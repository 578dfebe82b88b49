/**
 * Deterministic randomness for the sandbox. The catalogue hashes its inputs
 * (seed, product, date, slot, time bucket) instead of drawing from a stream,
 * so any day can be computed alone, in any order, and always comes out the same.
 */

/** A uniform number in [0, 1) from the parts (cyrb53). */
export function hash01(...parts: (string | number)[]): number {
  const str = parts.join('|')
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return ((h2 >>> 0) * 2 ** 21 + (h1 >>> 11)) / 2 ** 53
}

/** An integer in [min, max] from the parts. */
export function hashInt(min: number, max: number, ...parts: (string | number)[]): number {
  return min + Math.floor(hash01(...parts) * (max - min + 1))
}

/** A seeded stream (mulberry32), for draws whose order is the point: fault injection. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

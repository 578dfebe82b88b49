import { describe, expect, it } from 'vitest'
import { createReadCache } from '../../server/availability/cache.ts'

function setup(ttlMs: number, maxEntries?: number) {
  let now = 1_000
  let loads = 0
  const cache = createReadCache({ ttlMs, maxEntries, now: () => now })
  const load = (v: string) => async () => {
    loads++
    return v
  }
  return { cache, load, loads: () => loads, advance: (ms: number) => (now += ms), set: (ms: number) => (now = ms) }
}

describe('createReadCache', () => {
  it('reuses a value within the TTL and loads again after it', async () => {
    const c = setup(1000)
    expect(await c.cache.get('k', c.load('a'))).toBe('a')
    c.advance(999)
    expect(await c.cache.get('k', c.load('b'))).toBe('a')
    c.advance(1)
    expect(await c.cache.get('k', c.load('c'))).toBe('c')
    expect(c.loads()).toBe(2)
  })
  it('with TTL 0 loads every time and keeps nothing', async () => {
    const c = setup(0)
    await c.cache.get('k', c.load('a'))
    await c.cache.get('k', c.load('b'))
    expect(c.loads()).toBe(2)
    expect(c.cache.size).toBe(0)
  })
  it('shares one load between concurrent misses of a key', async () => {
    const c = setup(1000)
    let resolve!: (v: string) => void
    let loads = 0
    const slow = () => {
      loads++
      return new Promise<string>((r) => (resolve = r))
    }
    const all = Promise.all([c.cache.get('k', slow), c.cache.get('k', slow), c.cache.get('k', slow)])
    resolve('x')
    expect(await all).toEqual(['x', 'x', 'x'])
    expect(loads).toBe(1)
  })
  it('does not keep a failed load', async () => {
    const c = setup(1000)
    await expect(c.cache.get('k', async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down')
    expect(await c.cache.get('k', c.load('ok'))).toBe('ok')
  })
  it('loads again when the clock goes backwards', async () => {
    const c = setup(1000)
    await c.cache.get('k', c.load('a'))
    c.set(500)
    expect(await c.cache.get('k', c.load('b'))).toBe('b')
  })
  it('keeps at most maxEntries, dropping the oldest', async () => {
    const c = setup(1000, 2)
    await c.cache.get('a', c.load('1'))
    await c.cache.get('b', c.load('2'))
    await c.cache.get('c', c.load('3'))
    expect(c.cache.size).toBe(2)
    expect(await c.cache.get('a', c.load('again'))).toBe('again')
  })
  it('holds only the keys loaded within the TTL, however many were read before', async () => {
    // A soak reading every product and day kept each one's value (expired) up to
    // maxEntries: the heap grew for hours with nothing in it ever served again.
    const c = setup(1000)
    for (let i = 0; i < 5_000; i++) {
      await c.cache.get(`p${i}`, c.load(String(i)))
      c.advance(10)
    }
    // Loaded at most 1,000 ms ago: 100 keys (one every 10 ms).
    expect(c.cache.size).toBe(100)
    expect(await c.cache.get('p4999', c.load('again'))).toBe('4999')
    expect(await c.cache.get('p0', c.load('again'))).toBe('again')
  })
  it('forgets by key prefix, or everything', async () => {
    const c = setup(1000)
    await c.cache.get('1|x', c.load('1'))
    await c.cache.get('14|x', c.load('14'))
    c.cache.invalidate('1|')
    expect(await c.cache.get('1|x', c.load('1b'))).toBe('1b')
    expect(await c.cache.get('14|x', c.load('14b'))).toBe('14')
    c.cache.invalidate()
    expect(c.cache.size).toBe(0)
  })
})

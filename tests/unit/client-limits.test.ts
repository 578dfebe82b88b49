import { describe, expect, it } from 'vitest'
import { clientKey, createAuthGuard, createStreamSlots, createWindowCounter } from '../../server/api/client-limits.ts'
import { trpcCall } from '../../server/api/edge.ts'

describe('clientKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:10.0.0.1', '10.0.0.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('%s → %s', (ip, key) => expect(clientKey(ip)).toBe(key))

  it('one IPv6 /64 is one client: rotating the interface id does not buy a new allowance', () => {
    expect(clientKey('2001:db8:a:b::1')).toBe(clientKey('2001:db8:a:b:ffff:1:2:3'))
    expect(clientKey('2001:db8:a:b::1')).not.toBe(clientKey('2001:db8:a:c::1'))
  })
})

describe('createWindowCounter', () => {
  it('counts weighted takes within one window per key; a take that does not fit counts nothing', () => {
    let t = 0
    const c = createWindowCounter({ limit: 10, windowMs: 60_000, now: () => t })
    expect(c.take('a', 6)).toMatchObject({ ok: true, remaining: 4, resetInMs: 60_000 })
    expect(c.take('a', 5)).toMatchObject({ ok: false, remaining: 4 })
    expect(c.take('a', 4)).toMatchObject({ ok: true, remaining: 0 })
    expect(c.take('b', 10).ok).toBe(true)
    t = 30_000
    expect(c.take('a', 1)).toMatchObject({ ok: false, resetInMs: 30_000 })
    t = 60_000
    expect(c.take('a', 1)).toMatchObject({ ok: true, remaining: 9, resetInMs: 60_000 })
  })

  it('refund gives units back within the window, never below zero', () => {
    const c = createWindowCounter({ limit: 2, windowMs: 60_000, now: () => 0 })
    c.take('a', 2)
    c.refund('a', 1)
    expect(c.take('a', 1).ok).toBe(true)
    c.refund('a', 99)
    expect(c.peek('a')).toMatchObject({ ok: true, remaining: 2 })
  })

  it('keeps at most maxKeys clients', () => {
    let t = 0
    const c = createWindowCounter({ limit: 1, windowMs: 60_000, now: () => t, maxKeys: 100 })
    for (let i = 0; i < 1000; i++) c.take(`k${i}`, 1)
    t = 1
    // The oldest were dropped to make room, so they start a new window.
    expect(c.take('k0', 1).ok).toBe(true)
    expect(c.take('k999', 1).ok).toBe(false)
  })
})

describe('createStreamSlots', () => {
  it('caps per client and per instance; a release frees the slot once', () => {
    const s = createStreamSlots({ max: 3, maxPerClient: 2 })
    const a1 = s.acquire('a')
    const a2 = s.acquire('a')
    expect(s.acquire('a')).toEqual({ ok: false, refusedBy: 'client' })
    const b1 = s.acquire('b')
    expect(s.acquire('c')).toEqual({ ok: false, refusedBy: 'instance' })
    expect(s.open).toBe(3)
    if (!a1.ok || !a2.ok || !b1.ok) throw new Error('expected slots')
    a1.release()
    a1.release()
    expect(s.open).toBe(2)
    expect(s.acquire('a').ok).toBe(true)
    expect(s.acquire('c')).toEqual({ ok: false, refusedBy: 'instance' })
  })
})

describe('createAuthGuard', () => {
  it('counts wrong credentials per client, blocks past the allowance without comparing, and forgives after the minute', () => {
    let t = 0
    const g = createAuthGuard({ failuresPerMinute: 2, now: () => t })
    let compared = 0
    const valid = (c: string) => {
      compared++
      return c === 'right'
    }
    expect(g.verify('a', undefined, valid)).toBe('missing')
    expect(g.verify('a', 'wrong', valid)).toBe('denied')
    expect(g.verify('a', 'wrong', valid)).toBe('denied')
    expect(g.verify('a', 'right', valid)).toBe('blocked')
    expect(compared).toBe(2)
    expect(g.retryAfterS('a')).toBe(60)
    expect(g.verify('b', 'right', valid)).toBe('ok')
    t = 60_000
    expect(g.verify('a', 'right', valid)).toBe('ok')
  })
})

describe('trpcCall', () => {
  it('reads the procedures of a batch from the path, decoded', () => {
    expect(trpcCall('/trpc/sync.status,health.live?batch=1&input=%7B%7D')).toEqual({ batch: true, paths: ['sync.status', 'health.live'] })
    expect(trpcCall('/trpc/sync.status%2Csync.status?batch=1')?.paths).toHaveLength(2)
    expect(trpcCall('/trpc/a,b,c')).toEqual({ batch: false, paths: ['a,b,c'] })
    expect(trpcCall('/api/v1/sync/status')).toBeUndefined()
  })
})

import { describe, expect, it } from 'vitest'
import { DEFAULT_RATE_LIMIT_WAIT_MS, rateLimitResetAt } from '../../server/partner/client.ts'
import { PartnerError } from '../../server/partner/errors.ts'

const NOW = Date.UTC(2026, 11, 1, 2)
const h = (init: Record<string, string> = {}) => new Headers(init)
const body = (reset: unknown) => JSON.stringify({ message: 'Too many requests', rateLimitState: { remaining: 0, reset } })

describe('when a 429 allows requests again', () => {
  it('uses rateLimitState.reset (epoch ms) first, even when Retry-After disagrees', () => {
    expect(rateLimitResetAt(body(NOW + 12_345), h({ 'retry-after': '90' }), NOW)).toBe(NOW + 12_345)
  })

  it('reads a reset small enough to be epoch seconds as seconds', () => {
    expect(rateLimitResetAt(body((NOW + 30_000) / 1000), h(), NOW)).toBe(NOW + 30_000)
  })

  it('falls back to Retry-After in seconds or as an HTTP date', () => {
    expect(rateLimitResetAt('', h({ 'retry-after': '7' }), NOW)).toBe(NOW + 7_000)
    expect(rateLimitResetAt('', h({ 'retry-after': new Date(NOW + 20_000).toUTCString() }), NOW)).toBe(NOW + 20_000)
    expect(rateLimitResetAt(body('soon'), h({ 'retry-after': '3' }), NOW)).toBe(NOW + 3_000)
  })

  it('waits the default without a body or header, or with garbage', () => {
    expect(rateLimitResetAt('', h(), NOW)).toBe(NOW + DEFAULT_RATE_LIMIT_WAIT_MS)
    expect(rateLimitResetAt('<html>', h({ 'retry-after': 'later' }), NOW)).toBe(NOW + DEFAULT_RATE_LIMIT_WAIT_MS)
    expect(DEFAULT_RATE_LIMIT_WAIT_MS).toBe(60_000)
  })

  it('still pauses a second for a reset already past (clock skew), and caps an absurd one at an hour', () => {
    expect(rateLimitResetAt(body(NOW - 5_000), h(), NOW)).toBe(NOW + 1_000)
    expect(rateLimitResetAt(body(NOW + 86_400_000), h(), NOW)).toBe(NOW + 3_600_000)
  })
})

describe('PartnerError', () => {
  it('carries kind, status and the reset instant', () => {
    expect(new PartnerError('rate_limited', 'x', { status: 429, retryAt: NOW })).toMatchObject({
      name: 'PartnerError',
      kind: 'rate_limited',
      status: 429,
      retryAt: NOW,
    })
    expect(new PartnerError('unauthorized', 'x', { status: 401 })).toMatchObject({ name: 'PartnerError', kind: 'unauthorized', status: 401 })
    expect(new PartnerError('timeout', 'x').status).toBeUndefined()
  })
})

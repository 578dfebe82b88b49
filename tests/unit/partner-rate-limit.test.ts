import { describe, expect, it } from 'vitest'
import { DEFAULT_MAX_HALT_MS, DEFAULT_RATE_LIMIT_WAIT_MS, rateLimitResetAt } from '../../server/partner/client.ts'
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

  it('still pauses a second for a reset already past (clock skew), and caps a far one at the maximum halt', () => {
    expect(rateLimitResetAt(body(NOW - 5_000), h(), NOW)).toBe(NOW + 1_000)
    expect(DEFAULT_MAX_HALT_MS).toBe(300_000)
    expect(rateLimitResetAt(body(NOW + 86_400_000), h(), NOW)).toBe(NOW + DEFAULT_MAX_HALT_MS)
    expect(rateLimitResetAt(body(NOW + 86_400_000), h(), NOW, 120_000)).toBe(NOW + 120_000)
  })

  // Issue 25: each of these halted every instance for an hour.
  const TEN_YEARS = 10 * 365 * 86_400_000
  it.each([
    ['a reset ten years out (ms)', body(NOW + TEN_YEARS), {}],
    ['a reset ten years out (seconds)', body((NOW + TEN_YEARS) / 1000), {}],
    ['a reset of 1e20', body(1e20), {}],
    ['a reset in epoch microseconds ten years out', body((NOW + TEN_YEARS) * 1000), {}],
    ['Retry-After: 99999999', '', { 'retry-after': '99999999' }],
    ['an HTTP date in the year 9999', '', { 'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT' }],
    ['a reset of Number.MAX_VALUE', body(Number.MAX_VALUE), { 'retry-after': '1e308' }],
  ])('%s halts at most the maximum, at least a second', (_, text, headers) => {
    for (const max of [DEFAULT_MAX_HALT_MS, 5_000]) {
      const at = rateLimitResetAt(text, h(headers), NOW, max)
      expect(at).toBeGreaterThanOrEqual(NOW + 1_000)
      expect(at).toBeLessThanOrEqual(NOW + max)
    }
  })

  it('reads a reset in epoch microseconds as such', () => {
    expect(rateLimitResetAt(body((NOW + 42_000) * 1000), h(), NOW)).toBe(NOW + 42_000)
  })

  it('takes negative, NaN or unreadable resets as no reset (the default wait)', () => {
    for (const [text, headers] of [
      [body(-5), {}],
      [body(null), { 'retry-after': '-30' }],
      ['{"rateLimitState":{"reset":NaN}}', { 'retry-after': 'NaN' }],
      [body('Infinity'), { 'retry-after': '-1e9' }],
    ] as const)
      expect(rateLimitResetAt(text, h(headers), NOW), `${text} ${JSON.stringify(headers)}`).toBe(NOW + DEFAULT_RATE_LIMIT_WAIT_MS)
  })

  it('never waits longer than a maximum halt shorter than the default wait', () => {
    expect(rateLimitResetAt('', h(), NOW, 10_000)).toBe(NOW + 10_000)
    expect(rateLimitResetAt(body(NOW - 1), h(), NOW, 500)).toBe(NOW + 500)
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

import { describe, expect, it } from 'vitest'
import { PartnerError } from '../../server/partner/errors.ts'
import { BACKOFF_AFTER_FAILURES, breakerChange, breakerGate, isPartnerFailure, PROBE_EVERY_MS } from '../../server/sync/backoff.ts'
import { partnerState } from '../../server/sync/control.ts'

const NOW = Date.UTC(2026, 11, 1, 2)

describe('which partner failures count towards backing off', () => {
  it('5xx, timeouts and dropped connections; not answers the partner gave', () => {
    for (const status of [500, 502, 503, 504, 599]) expect(isPartnerFailure(new PartnerError('http', 'x', { status })), String(status)).toBe(true)
    expect(isPartnerFailure(new PartnerError('timeout', 'x'))).toBe(true)
    expect(isPartnerFailure(new PartnerError('network', 'x'))).toBe(true)
    for (const status of [400, 404, 418]) expect(isPartnerFailure(new PartnerError('http', 'x', { status })), String(status)).toBe(false)
    expect(isPartnerFailure(new PartnerError('http', 'x'))).toBe(false)
    expect(isPartnerFailure(new PartnerError('rate_limited', 'x', { status: 429, retryAt: NOW }))).toBe(false)
    expect(isPartnerFailure(new PartnerError('invalid_response', 'x', { status: 200 }))).toBe(false)
    expect(isPartnerFailure(new PartnerError('unauthorized', 'x', { status: 401 }))).toBe(false)
  })
})

describe('breakerGate: may a request go out now?', () => {
  it('always below the threshold, whatever the last probe', () => {
    for (let n = 0; n < BACKOFF_AFTER_FAILURES; n++) {
      expect(breakerGate({ consecutiveFailures: n, lastProbeAt: null }, NOW)).toEqual({ state: 'ok', allowed: true })
      expect(breakerGate({ consecutiveFailures: n, lastProbeAt: NOW }, NOW)).toEqual({ state: 'ok', allowed: true })
    }
  })

  it('backing off: one probe at once, then one per interval', () => {
    const n = BACKOFF_AFTER_FAILURES
    expect(breakerGate({ consecutiveFailures: n, lastProbeAt: null }, NOW)).toEqual({ state: 'backing-off', allowed: true, nextProbeAt: NOW })
    expect(breakerGate({ consecutiveFailures: n, lastProbeAt: NOW }, NOW)).toEqual({ state: 'backing-off', allowed: false, nextProbeAt: NOW + PROBE_EVERY_MS })
    expect(breakerGate({ consecutiveFailures: n + 40, lastProbeAt: NOW }, NOW + PROBE_EVERY_MS - 1)).toMatchObject({ allowed: false })
    expect(breakerGate({ consecutiveFailures: n + 40, lastProbeAt: NOW }, NOW + PROBE_EVERY_MS)).toEqual({
      state: 'backing-off',
      allowed: true,
      nextProbeAt: NOW + PROBE_EVERY_MS,
    })
    // Long after the last probe, the next one is due now, not in the past.
    expect(breakerGate({ consecutiveFailures: n, lastProbeAt: NOW }, NOW + 10 * PROBE_EVERY_MS)).toEqual({
      state: 'backing-off',
      allowed: true,
      nextProbeAt: NOW + 10 * PROBE_EVERY_MS,
    })
  })

  it('a probe stamped ahead of this clock holds sending at most one interval', () => {
    expect(breakerGate({ consecutiveFailures: BACKOFF_AFTER_FAILURES, lastProbeAt: NOW + 3_600_000 }, NOW)).toEqual({
      state: 'backing-off',
      allowed: false,
      nextProbeAt: NOW + PROBE_EVERY_MS,
    })
  })

  it('the numbers keep a dead partner well under the budget and notice it back within the interval', () => {
    expect(BACKOFF_AFTER_FAILURES).toBe(5)
    expect(PROBE_EVERY_MS).toBe(30_000)
    expect((60_000 / PROBE_EVERY_MS) * 15).toBeLessThanOrEqual(30)
  })
})

describe('breakerChange: one log record per change of state', () => {
  it('enters exactly when the count reaches the threshold and leaves when it drops below', () => {
    const t = BACKOFF_AFTER_FAILURES
    expect(breakerChange(t - 1, t)).toBe('entered')
    expect(breakerChange(t, t + 1)).toBeUndefined()
    expect(breakerChange(0, 1)).toBeUndefined()
    expect(breakerChange(t + 7, 0)).toBe('left')
    expect(breakerChange(t - 1, 0)).toBeUndefined()
    // Counting failures one by one from zero logs "entered" once.
    const changes = Array.from({ length: 3 * t }, (_, i) => breakerChange(i, i + 1)).filter(Boolean)
    expect(changes).toEqual(['entered'])
  })
})

describe('the partner state status shows', () => {
  it('ok with no probe time, or backing-off with the next probe', () => {
    expect(partnerState({ consecutiveFailures: 2, lastProbeAt: null }, NOW)).toEqual({ state: 'ok', consecutiveFailures: 2, nextProbeAt: null })
    expect(partnerState({ consecutiveFailures: 9, lastProbeAt: NOW - 10_000 }, NOW)).toEqual({
      state: 'backing-off',
      consecutiveFailures: 9,
      nextProbeAt: new Date(NOW + PROBE_EVERY_MS - 10_000).toISOString(),
    })
  })
})

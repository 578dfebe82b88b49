import { describe, expect, it } from 'vitest'
import { cadence, wakeOnSchedule } from '../../server/sync/jobs.ts'

describe('engine job cadence (due by the injected clock)', () => {
  it('is due before its first run, then again once its interval has passed on the clock', () => {
    const c = cadence(60_000)
    expect(c.due(1_000)).toBe(true)
    c.ran(1_000)
    expect(c.due(1_000)).toBe(false)
    expect(c.due(60_999)).toBe(false)
    expect(c.due(61_000)).toBe(true)
    // A clock that jumps (the simulation) finds it due once, however far it jumped.
    c.ran(10_000_000)
    expect(c.due(10_000_001)).toBe(false)
  })
})

describe('wakeOnSchedule (production wake-ups)', () => {
  it('wakes on each job’s interval until stopped', async () => {
    const woken: number[] = []
    const jobs = wakeOnSchedule([{ id: 'fast', everyMs: 20 }], () => woken.push(Date.now()))
    await new Promise((r) => setTimeout(r, 110))
    jobs.stop()
    const seen = woken.length
    expect(seen).toBeGreaterThanOrEqual(2)
    await new Promise((r) => setTimeout(r, 60))
    expect(woken.length).toBe(seen)
  })
})

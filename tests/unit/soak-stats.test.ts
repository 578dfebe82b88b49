import { describe, expect, it } from 'vitest'
import { fitLine, gaugeMiB, pssMiB, slope, summarize, vmRssMiB } from '../../bench/soak-stats.ts'

describe('soak-stats: what bench:soak reports', () => {
  it('fits the least-squares slope, and has none without two distinct times', () => {
    expect(
      slope([
        { x: 0, y: 1 },
        { x: 1, y: 3 },
        { x: 2, y: 5 },
      ]),
    ).toBeCloseTo(2)
    // Noise around a flat line fits ~0, not the last-minus-first difference.
    expect(
      slope([
        { x: 0, y: 10 },
        { x: 1, y: 12 },
        { x: 2, y: 8 },
        { x: 3, y: 10 },
      ]),
    ).toBeCloseTo(-0.4)
    expect(slope([{ x: 1, y: 1 }])).toBeUndefined()
    expect(
      slope([
        { x: 1, y: 1 },
        { x: 1, y: 2 },
      ]),
    ).toBeUndefined()
  })

  it('gives the slope a standard error: 0 on a line, larger the more the points swing', () => {
    const line = [0, 1, 2].map((x) => ({ x, y: 1 + 2 * x }))
    expect(fitLine(line)?.stdErr).toBeCloseTo(0)
    // y = 10, 12, 8, 10 at x = 0..3 fits 10.6 - 0.4x with squared residuals summing to 7.2: se = sqrt(7.2 / (4 - 2) / 5).
    const swing = [10, 12, 8, 10].map((y, x) => ({ x, y }))
    expect(fitLine(swing)?.stdErr).toBeCloseTo(Math.sqrt(0.72))
    expect(fitLine(line.slice(0, 2))?.stdErr).toBeUndefined()
  })

  it('takes the slope over the last half only, in MiB per hour', () => {
    // Grows 100 MiB in the first half hour, then flat: the slope is 0, the max is the plateau.
    const samples = Array.from({ length: 61 }, (_, m) => ({ t: m * 60, rssMiB: 100 + Math.min(m, 30) * (100 / 30) }))
    const s = summarize(samples)
    expect(s.slopeLastHalfMiBPerHour).toBeCloseTo(0)
    expect(s.slopeStdErrMiBPerHour).toBeCloseTo(0)
    expect(s.maxRssMiB).toBeCloseTo(200)
    expect(s.rssAt1MinMiB).toBeCloseTo(100 + 100 / 30)
    expect(s.finalRssMiB).toBeCloseTo(200)
    expect(s.minutes).toBe(60)
    // 1 MiB a minute all along is 60 MiB/h.
    expect(summarize(samples.map((x) => ({ ...x, rssMiB: x.t / 60 }))).slopeLastHalfMiBPerHour).toBeCloseTo(60)
  })

  it('reads VmRSS, PSS and unlabelled gauges in MiB', () => {
    expect(vmRssMiB('Name:\tnode\nVmHWM:\t  300000 kB\nVmRSS:\t  204800 kB\n')).toBe(200)
    expect(pssMiB('55f0-7ffd ---p 00000000 00:00 0 [rollup]\nRss:  4096 kB\nPss:  2048 kB\n')).toBe(2)
    const text = '# TYPE nodejs_heap_size_used_bytes gauge\nnodejs_heap_size_used_bytes 1048576\nnodejs_heap_space_size_used_bytes{space="new"} 5\n'
    expect(gaugeMiB(text, 'nodejs_heap_size_used_bytes')).toBe(1)
    expect(gaugeMiB(text, 'nodejs_external_memory_bytes')).toBeUndefined()
  })
})

/**
 * The arithmetic of bench/soak.ts, kept pure so it is tested: what one memory
 * sample holds, the least-squares slope of RSS against time, and the summary
 * the soak prints and stores.
 */

export interface SoakSample {
  /** Seconds since the service answered /ready. */
  t: number
  /** The service process's resident set (VmRSS), MiB. */
  rssMiB: number
  /** Proportional set size of the embedded Postgres' processes together (shared pages split between them), MiB. */
  postgresPssMiB?: number
  postgresProcesses?: number
  /** The service's own account of its memory, from its /metrics (prom-client's process defaults), MiB. */
  heapUsedMiB?: number
  heapTotalMiB?: number
  externalMiB?: number
  /** Requests the read load made since the previous sample, and how many did not answer 200. */
  reads?: number
  readErrors?: number
}

export interface SoakSummary {
  samples: number
  minutes: number
  maxRssMiB: number
  /** The first sample at or after one minute of service. */
  rssAt1MinMiB: number | undefined
  finalRssMiB: number
  /** RSS slope over the last half of the run, MiB per hour (least squares). */
  slopeLastHalfMiBPerHour: number | undefined
  /** Its standard error: garbage collections swing RSS by tens of MiB, so a slope means little without it. */
  slopeStdErrMiBPerHour: number | undefined
  maxPostgresPssMiB: number | undefined
}

/** Least-squares slope of y against x; undefined with fewer than two distinct x. */
export function slope(points: readonly { x: number; y: number }[]): number | undefined {
  return fitLine(points)?.slope
}

/** Least-squares line through the points, with the slope's standard error (undefined below three points). */
export function fitLine(points: readonly { x: number; y: number }[]): { slope: number; stdErr: number | undefined } | undefined {
  const n = points.length
  if (n < 2) return undefined
  const mx = points.reduce((s, p) => s + p.x, 0) / n
  const my = points.reduce((s, p) => s + p.y, 0) / n
  let sxx = 0
  let sxy = 0
  for (const p of points) {
    sxx += (p.x - mx) ** 2
    sxy += (p.x - mx) * (p.y - my)
  }
  if (sxx === 0) return undefined
  const b = sxy / sxx
  const residuals = points.reduce((s, p) => s + (p.y - my - b * (p.x - mx)) ** 2, 0)
  return { slope: b, stdErr: n > 2 ? Math.sqrt(residuals / (n - 2) / sxx) : undefined }
}

export function summarize(samples: readonly SoakSample[]): SoakSummary {
  if (samples.length === 0) throw new Error('no samples')
  const last = samples.at(-1)!
  const half = last.t / 2
  const lastHalf = samples.filter((s) => s.t >= half).map((s) => ({ x: s.t / 3600, y: s.rssMiB }))
  const line = fitLine(lastHalf)
  const pg = samples.map((s) => s.postgresPssMiB).filter((v): v is number => v !== undefined)
  return {
    samples: samples.length,
    minutes: last.t / 60,
    maxRssMiB: Math.max(...samples.map((s) => s.rssMiB)),
    rssAt1MinMiB: samples.find((s) => s.t >= 60)?.rssMiB,
    finalRssMiB: last.rssMiB,
    slopeLastHalfMiBPerHour: line?.slope,
    slopeStdErrMiBPerHour: line?.stdErr,
    maxPostgresPssMiB: pg.length ? Math.max(...pg) : undefined,
  }
}

/** `VmRSS:  123456 kB` from a /proc/<pid>/status text, in MiB. */
export function vmRssMiB(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  return m ? Number(m[1]) / 1024 : undefined
}

/** `Pss:  1234 kB` from a /proc/<pid>/smaps_rollup text, in MiB. */
export function pssMiB(smapsRollup: string): number | undefined {
  const m = /^Pss:\s+(\d+)\s+kB/m.exec(smapsRollup)
  return m ? Number(m[1]) / 1024 : undefined
}

/** One unlabelled gauge from a Prometheus text exposition, in MiB (the Node defaults are bytes). */
export function gaugeMiB(exposition: string, name: string): number | undefined {
  const m = new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(exposition)
  return m ? Number(m[1]) / 2 ** 20 : undefined
}

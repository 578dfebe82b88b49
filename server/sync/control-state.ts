import type pg from 'pg'

/** The global switch and the 429 halt, as the engine reads them each pass. */
export interface ControlState {
  paused: boolean
  reason: string | null
  changedAt: number
  haltedUntil: number | null
  lastSuccessAt: number | null
  lastError: string | null
  lastErrorAt: number | null
}

export async function readControl(pool: Pick<pg.Pool, 'query'>): Promise<ControlState> {
  const { rows } = await pool.query<{ paused: boolean; reason: string | null; changed_at: Date; halted_until: Date | null; last_success_at: Date | null; last_error: string | null; last_error_at: Date | null }>(
    'SELECT paused, reason, changed_at, halted_until, last_success_at, last_error, last_error_at FROM sync_control WHERE id = 1',
  )
  const r = rows[0]
  if (!r) return { paused: false, reason: null, changedAt: 0, haltedUntil: null, lastSuccessAt: null, lastError: null, lastErrorAt: null }
  return {
    paused: r.paused,
    reason: r.reason,
    changedAt: r.changed_at.getTime(),
    haltedUntil: r.halted_until?.getTime() ?? null,
    lastSuccessAt: r.last_success_at?.getTime() ?? null,
    lastError: r.last_error,
    lastErrorAt: r.last_error_at?.getTime() ?? null,
  }
}

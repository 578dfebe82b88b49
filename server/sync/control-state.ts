import type { Db } from '../db/client.ts'

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

export async function readControl(db: Db): Promise<ControlState> {
  const r = await db.syncControl.findUnique({ where: { id: 1 } })
  if (!r) return { paused: false, reason: null, changedAt: 0, haltedUntil: null, lastSuccessAt: null, lastError: null, lastErrorAt: null }
  return {
    paused: r.paused,
    reason: r.reason,
    changedAt: r.changedAt.getTime(),
    haltedUntil: r.haltedUntil?.getTime() ?? null,
    lastSuccessAt: r.lastSuccessAt?.getTime() ?? null,
    lastError: r.lastError,
    lastErrorAt: r.lastErrorAt?.getTime() ?? null,
  }
}

/**
 * What sync control answers, in its own words. The API's zod schemas
 * (server/api/schemas.ts) describe the same shapes for the wire and OpenAPI;
 * server/api/services.ts checks at compile time that the two agree.
 */

/** A "run now" request: from/to arrive as real calendar days with from ≤ to; the horizon is the service's to check. */
export interface RunRequest {
  productId?: number | undefined
  from?: string | undefined
  to?: string | undefined
}

export interface RunResult {
  queued: number
}

export interface SyncStateView {
  paused: boolean
  productId?: number | undefined
  changedAt: string
  /** Products paused on their own while sync as a whole runs. */
  pausedProducts: number[]
  /** A 429's halt still in force (a global resume lifts it). */
  haltedUntil: string | null
}

export interface TierCounts {
  total: number
  fresh: number
  due: number
  overdue: number
  /** The oldest successful fetch among the tier's days (null: none fetched yet). */
  oldestFetchedAt: string | null
}

export interface SyncStatusView {
  paused: boolean
  pausedProducts: number[]
  running: boolean
  queue: number
  inFlight: number
  queued: number
  neverFetched: number
  tiers: Record<string, TierCounts>
  run: { queued: number; etaAt: string | null }
  budget: {
    limitPerMinute: number
    usedLastMinute: number
    leftThisMinute: number
    usedToday: number
    leftToday: number
    haltedUntil: string | null
  }
  lastSuccessAt: string | null
  lastError: { at: string; message: string } | null
  oldestServedFetchedAt: string | null
  products: { active: number; paused: number }
  failingProducts: {
    productId: number
    failingDays: number
    lastSuccessAt: string | null
    lastError: string | null
    lastErrorAt: string | null
  }[]
  partner: {
    host: string
    sandbox: boolean
    /** `backing-off`: the partner failed persistently; one probe goes out per interval until it answers. */
    state: 'ok' | 'backing-off'
    consecutiveFailures: number
    nextProbeAt: string | null
  }
}

export interface SyncService {
  pause(productId?: number): Promise<SyncStateView>
  resume(productId?: number): Promise<SyncStateView>
  /** Queues at top priority. */
  run(req: RunRequest): Promise<RunResult>
  status(): Promise<SyncStatusView>
}

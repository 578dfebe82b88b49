/**
 * The readiness answer, in the database module's own words; the API's
 * readySchema describes it for the wire (checked in server/api/services.ts).
 */
export interface ReadyView {
  ready: boolean
  database: boolean
  migrations: boolean
  /** Why not ready: database unreachable, schema not migrated yet, shutting down. */
  reason?: string | undefined
}

/** Liveness: false only when the service cannot heal itself (db/health-state.ts). */
export interface LiveView {
  ok: boolean
  /** Why not live: the embedded database did not recover. */
  reason?: string | undefined
}

export interface HealthService {
  ready(): Promise<ReadyView>
  live(): LiveView
}

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

export interface HealthService {
  ready(): Promise<ReadyView>
}

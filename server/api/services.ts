import type { z } from 'zod'
import type * as Availability from '../availability/types.ts'
import type * as Health from '../db/health-types.ts'
import type * as Sync from '../sync/types.ts'
import type {
  changeEventSchema,
  datesResultSchema,
  freshnessSchema,
  paxSchema,
  priceSchema,
  productRemovedSchema,
  productSchema,
  productsResultSchema,
  liveSchema,
  readySchema,
  runRequestSchema,
  slotSchema,
  slotsResultSchema,
} from './schemas.ts'
import type { domainSyncStatusSchema, firstPassSchema, runResultSchema, syncStateSchema, syncStatusSchema, tierCountsSchema } from './sync-schemas.ts'
import type { SyncReadService } from './sync-read-schemas.ts'
import type { auditResultSchema } from './audit-schemas.ts'
import type { AuditEntry } from '../audit/service.ts'

/**
 * What the API needs from the rest of slotsync. Routers call these; REST
 * routes call the routers. Implementations are wired in server.ts.
 *
 * The view types are inferred from the zod schemas in schemas.ts (which also
 * generate the OpenAPI document), so a field cannot change in one place only.
 * Inferred types are spelled out wherever they are used, which keeps the
 * router's emitted type (and so the SDK's generated copy) free of imports.
 *
 * The domain rooms define the same shapes in their own words
 * (availability/types.ts, sync/types.ts, db/health-types.ts) and never
 * import from here; the check at the end of this file fails the type-check
 * if the two ever disagree, and server.ts hands the domain's services in
 * where these interfaces are expected.
 */
export type Price = z.infer<typeof priceSchema>
export type PaxView = z.infer<typeof paxSchema>
export type SlotView = z.infer<typeof slotSchema>
export type Freshness = z.infer<typeof freshnessSchema>
export type SlotsResult = z.infer<typeof slotsResultSchema>
export type DatesResult = z.infer<typeof datesResultSchema>

/** SlotsResult with `slots` as its JSON text, for a face that sends text (REST): stored that way, never parsed. */
export interface SlotsJson {
  slots: string
  freshness: Freshness
}

/** DatesResult with `dates` as its JSON text. */
export interface DatesJson {
  dates: string
  pending: string[]
  oldestFetchedAt: string | null
}

/** A read that wants the day no older than `maxAgeS` (a live check); `client` is counted against LIVE_CHECKS_PER_MINUTE. */
export interface LiveRead {
  maxAgeS?: number | undefined
  client?: string | undefined
}

export interface AvailabilityService {
  /** A day's slots with pax, sorted; throws BadRequestError (field productId|date) or NotFoundError. */
  slots(productId: number, date: string, live?: LiveRead): Promise<SlotsResult>
  /** Days of the 60-day horizon with something left, and their lowest price. */
  dates(productId: number): Promise<DatesResult>
  /** slots(), same checks and errors, with the slots as JSON text. */
  slotsJson(productId: number, date: string, live?: LiveRead): Promise<SlotsJson>
  /** dates(), same checks and errors, with the dates as JSON text. */
  datesJson(productId: number): Promise<DatesJson>
}

export type RunRequest = z.infer<typeof runRequestSchema>

export interface SyncService {
  pause(productId?: number): Promise<SyncStateView>
  resume(productId?: number): Promise<SyncStateView>
  /** Queues at top priority; from/to arrive as real calendar days with from ≤ to, the horizon is the service's to check. */
  run(req: RunRequest): Promise<z.infer<typeof runResultSchema>>
  status(): Promise<SyncStatusView>
}

export type SyncStateView = z.infer<typeof syncStateSchema>
export type TierCounts = z.infer<typeof tierCountsSchema>
/** The sync domain's status (server/sync/types.ts): tiers keyed by any name; the router checks they are exactly the tier names. */
export type SyncStatusView = z.infer<typeof domainSyncStatusSchema>
export type FirstPass = z.infer<typeof firstPassSchema>
/** What `sync.status` answers: the domain's status, tiers by name, and the first pass the API works out from it (first-pass.ts). */
export type SyncStatusAnswer = z.infer<typeof syncStatusSchema>

export interface HealthService {
  ready(): Promise<z.infer<typeof readySchema>>
  live(): z.infer<typeof liveSchema>
}

export type ProductView = z.infer<typeof productSchema>

/** Products at run time (server/catalogue). */
export interface CatalogueApi {
  list(): Promise<z.infer<typeof productsResultSchema>>
  /** Adds or updates; throws BadRequestError (field timeZone) for a zone Postgres does not know. */
  upsert(productId: number, timeZone?: string): Promise<ProductView>
  /** Throws NotFoundError for an unknown product. */
  remove(productId: number): Promise<z.infer<typeof productRemovedSchema>>
}

export type ChangeEventView = z.infer<typeof changeEventSchema>

/** The change feed (server/changes): one subscriber's events, each once, in id order. */
export interface ChangesApi {
  stream(opts: {
    productIds?: readonly number[] | undefined
    lastEventId?: number | undefined
    signal?: AbortSignal | undefined
  }): AsyncIterable<ChangeEventView>
}

/** The audit trail of admin actions (server/audit). */
export interface AuditApi {
  record(entry: AuditEntry): Promise<void>
  list(limit: number): Promise<z.infer<typeof auditResultSchema>>
  /** What a global resume would lift (a partner halt), if anything. */
  haltInForce(): Promise<string | null>
}

export interface Services {
  availability: AvailabilityService
  sync: SyncService
  health: HealthService
  /** Read-only sync views (freshness grid, budget history). */
  syncReads: SyncReadService
  catalogue: CatalogueApi
  changes: ChangesApi
  audit: AuditApi
}

/** The services as the procedures see them: the API's own additions to the domain's answers. */
export interface ApiServices extends Omit<Services, 'sync'> {
  sync: Omit<SyncService, 'status'> & { status(): Promise<SyncStatusAnswer> }
}

/** true only if A and B are the same type: no field added (even optional), dropped or retyped on one side. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const domainTypesAgree: [
  Same<Price, Availability.Price>,
  Same<PaxView, Availability.PaxView>,
  Same<SlotView, Availability.SlotView>,
  Same<Freshness, Availability.Freshness>,
  Same<SlotsResult, Availability.SlotsResult>,
  Same<DatesResult, Availability.DatesResult>,
  Same<SlotsJson, Availability.SlotsJson>,
  Same<DatesJson, Availability.DatesJson>,
  Same<AvailabilityService, Availability.AvailabilityService>,
  Same<RunRequest, Sync.RunRequest>,
  Same<z.infer<typeof runResultSchema>, Sync.RunResult>,
  Same<SyncStateView, Sync.SyncStateView>,
  Same<TierCounts, Sync.TierCounts>,
  Same<SyncStatusView, Sync.SyncStatusView>,
  Same<SyncService, Sync.SyncService>,
  Same<z.infer<typeof readySchema>, Health.ReadyView>,
  Same<HealthService, Health.HealthService>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true]
void domainTypesAgree

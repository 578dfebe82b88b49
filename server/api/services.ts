import type { FreshnessState } from '../availability/freshness.ts'

/**
 * What the API needs from the rest of slotsync. Routers call these; REST
 * routes call the routers. Implementations are wired in server.ts.
 */
export interface Price {
  finalPrice: number
  currencyCode: string
  originalPrice: number
}

export interface PaxView {
  type: string
  name: string
  description: string
  price: Price
  min: number
  max: number
  remaining: number
  isPrimary: boolean
}

export interface SlotView {
  startTime: string
  startDate: string
  endTime: string
  providerSlotId: string
  price: Price | null
  remaining: number
  paxAvailability: PaxView[]
}

export interface Freshness {
  fetchedAt: string | null
  state: FreshnessState
}

export interface SlotsResult {
  slots: SlotView[]
  freshness: Freshness
}

export interface DatesResult {
  dates: { date: string; price: Price }[]
}

export interface AvailabilityService {
  slots(productId: number, date: string): Promise<SlotsResult>
  dates(productId: number): Promise<DatesResult>
}

export interface RunRequest {
  productId?: number
  from?: string
  to?: string
}

export interface SyncService {
  pause(productId?: number): Promise<SyncStateView>
  resume(productId?: number): Promise<SyncStateView>
  run(req: RunRequest): Promise<{ queued: number }>
  status(): Promise<SyncStatusView>
}

export interface SyncStateView {
  paused: boolean
  productId?: number
  changedAt: string
  /** Products paused on their own while sync as a whole runs. */
  pausedProducts: number[]
}

export interface TierCounts {
  total: number
  fresh: number
  due: number
  overdue: number
}

export interface SyncStatusView {
  paused: boolean
  pausedProducts: number[]
  running: boolean
  queue: number
  inFlight: number
  tiers: Record<string, TierCounts>
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
  partner: { baseUrl: string; sandbox: boolean }
}

export interface HealthService {
  ready(): Promise<{ ready: boolean; database: boolean; migrations: boolean }>
}

export interface Services {
  availability: AvailabilityService
  sync: SyncService
  health: HealthService
}

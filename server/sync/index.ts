import { randomBytes } from 'node:crypto'
import os from 'node:os'
import type pg from 'pg'
import type { Clock } from '../clock.ts'
import type { PrismaClient } from '../db/generated/client.ts'
import { createPartnerClient } from '../partner/client.ts'
import type { SyncService } from '../api/services.ts'
import { createBudget, type Budget } from './budget.ts'
import { createSyncControl } from './control.ts'
import { createSyncEngine, type EngineLogger, type SyncEngine, type SyncEngineOptions, type SyncObserver } from './engine.ts'

export interface SyncAssemblyOptions {
  pool: pg.Pool
  /** Over the same connections as `pool`: the snapshot writer's transactions. */
  prisma: PrismaClient
  /** The instance's clock: plans, due times, fetchedAt. */
  clock: Clock
  logger: EngineLogger
  partner: { baseUrl: string; apiKey: string; sandbox: boolean; timeoutMs?: number }
  limitPerMinute: number
  timeZone: string
  instanceId?: string
  engine?: Partial<Pick<SyncEngineOptions, 'maxInFlight' | 'claimTtlMs' | 'maintenanceEveryMs' | 'rankEveryMs' | 'idleWaitMs' | 'spendSpareBudget' | 'strategy'>>
  /** SYNC_BUDGET_MARGIN_MS: added to the partner's 60 s window. */
  budgetMarginMs?: number
  /** The shared window's clock; default the database's, one for all instances. */
  budgetClock?: Clock
  observer?: SyncObserver
}

export interface SyncAssembly {
  engine: SyncEngine
  control: SyncService
  budget: Budget
  instanceId: string
}

/** A claim outlives the longest a request may take, and the write after it, with room to spare. */
const claimTtlFor = (timeoutMs: number) => Math.max(120_000, 3 * timeoutMs)

/** Wires budget, partner client, engine and controls for one instance. */
export function createSync(o: SyncAssemblyOptions): SyncAssembly {
  const instanceId = o.instanceId ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  const timeoutMs = o.partner.timeoutMs ?? 10_000
  const budget = createBudget(o.pool, { limitPerMinute: o.limitPerMinute, instanceId, marginMs: o.budgetMarginMs, clock: o.budgetClock })
  const partner = createPartnerClient({
    baseUrl: o.partner.baseUrl,
    apiKey: o.partner.apiKey,
    timeoutMs,
    // Each request is stamped into the shared window as it is sent; a
    // failure is retried by the planner later, through the window again. A
    // 429 is turned into a shared halt by the engine.
    maxAttempts: 1,
    holdWhileRateLimited: false,
    clock: o.clock,
    logger: o.logger,
  })
  const engine = createSyncEngine({ pool: o.pool, prisma: o.prisma, partner, budget, clock: o.clock, logger: o.logger, instanceId, claimTtlMs: claimTtlFor(timeoutMs), observer: o.observer, ...o.engine })
  const control = createSyncControl({ pool: o.pool, clock: o.clock, budget, timeZone: o.timeZone, partner: { baseUrl: o.partner.baseUrl, sandbox: o.partner.sandbox }, engine })
  return { engine, control, budget, instanceId }
}

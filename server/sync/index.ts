import { randomBytes } from 'node:crypto'
import os from 'node:os'
import type pg from 'pg'
import type { Clock } from '../clock.ts'
import { createPartnerClient } from '../partner/client.ts'
import type { SyncService } from '../api/services.ts'
import { createBudget, type Budget } from './budget.ts'
import { createSyncControl } from './control.ts'
import { createSyncEngine, type EngineLogger, type SyncEngine, type SyncEngineOptions } from './engine.ts'

export interface SyncAssemblyOptions {
  pool: pg.Pool
  clock: Clock
  logger: EngineLogger
  partner: { baseUrl: string; apiKey: string; sandbox: boolean; timeoutMs?: number }
  limitPerMinute: number
  timeZone: string
  instanceId?: string
  engine?: Partial<Pick<SyncEngineOptions, 'batchSize' | 'concurrency' | 'claimTtlMs' | 'tickMs' | 'maintenanceEveryMs' | 'strategy'>>
  budgetMarginMs?: number
}

export interface SyncAssembly {
  engine: SyncEngine
  control: SyncService
  budget: Budget
  instanceId: string
}

/** Wires budget, partner client, engine and controls for one instance. */
export function createSync(o: SyncAssemblyOptions): SyncAssembly {
  const instanceId = o.instanceId ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  const budget = createBudget(o.pool, { limitPerMinute: o.limitPerMinute, instanceId, marginMs: o.budgetMarginMs })
  const partner = createPartnerClient({
    baseUrl: o.partner.baseUrl,
    apiKey: o.partner.apiKey,
    timeoutMs: o.partner.timeoutMs,
    // Each request is granted by the shared budget before the pass claims it;
    // a failure is retried by the planner in a later pass, through the budget
    // again. A 429 is turned into a shared halt by the engine.
    maxAttempts: 1,
    clock: o.clock,
    logger: o.logger,
  })
  const engine = createSyncEngine({ pool: o.pool, partner, budget, clock: o.clock, logger: o.logger, instanceId, ...o.engine })
  const control = createSyncControl({ pool: o.pool, clock: o.clock, budget, timeZone: o.timeZone, partner: { baseUrl: o.partner.baseUrl, sandbox: o.partner.sandbox }, engine })
  return { engine, control, budget, instanceId }
}

import { randomBytes } from 'node:crypto'
import os from 'node:os'
import type { Clock } from '../clock.ts'
import { LIVE_DEFAULTS } from '../config.ts'
import type { Database } from '../db/client.ts'
import type { Logger } from '../logger.ts'
import { createPartnerClient, DEFAULT_PARTNER_TIMEOUT_MS, type PartnerClientOptions } from '../partner/client.ts'
import type { SyncService } from './types.ts'
import { createBudget, type Budget } from './budget.ts'
import { createSyncControl } from './control.ts'
import { createReadCounter, type ReadCounter } from './demand.ts'
import { createSyncEngine, smartStrategy, type SyncEngine, type SyncEngineOptions, type SyncObserver } from './engine.ts'
import { createLiveChecker, type LiveChecker } from './live.ts'

export interface SyncAssemblyOptions {
  /** The engine's pool: its claims, budget and writes. */
  db: Database
  /**
   * The pool the controls read and write through (sync.status is a public
   * read, callable at the API's rate): the API's, so that no number of
   * status calls can take the engine's connections. Default `db`.
   */
  controlDb?: Database
  /** The instance's clock: plans, due times, fetchedAt. */
  clock: Clock
  logger: Logger
  partner: { baseUrl: string; apiKey: string; sandbox: boolean } & Pick<PartnerClientOptions, 'timeoutMs' | 'maxBodyBytes' | 'maxSlots' | 'maxHaltMs'>
  limitPerMinute: number
  timeZone: string
  instanceId?: string
  engine?: Partial<
    Pick<SyncEngineOptions, 'maxInFlight' | 'claimTtlMs' | 'maintenanceEveryMs' | 'rankEveryMs' | 'idleWaitMs' | 'spendSpareBudget' | 'strategy'>
  >
  /** SYNC_BUDGET_MARGIN_MS: added to the partner's 60 s window. */
  budgetMarginMs?: number
  /** The shared window's clock; default the database's, one for all instances. */
  budgetClock?: Clock
  observer?: SyncObserver
  /**
   * Live checks (public-api.md "Live check"): the lane's share of the key
   * (SYNC_LIVE_SHARE) and checks per client address a minute
   * (LIVE_CHECKS_PER_MINUTE). Default: the configuration's defaults.
   */
  live?: { share?: number; perClientPerMinute?: number }
}

export interface SyncAssembly {
  engine: SyncEngine
  control: SyncService
  budget: Budget
  /** Live checks on this instance's clock, partner client and budget (sync/live.ts). */
  live: LiveChecker
  instanceId: string
  /**
   * This instance's read counts (sync/demand.ts): the API records each read
   * here; flushed once a minute of `clock` before a ranking, and by
   * `demand.start()`'s own timer where no engine runs (SYNC_ENABLED=false).
   */
  demand: ReadCounter
}

/** A claim outlives the longest a request may take, and the write after it, with room to spare. */
const claimTtlFor = (timeoutMs: number) => Math.max(120_000, 3 * timeoutMs)

/** Wires budget, partner client, engine and controls for one instance. */
export function createSync(o: SyncAssemblyOptions): SyncAssembly {
  const instanceId = o.instanceId ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  const timeoutMs = o.partner.timeoutMs ?? DEFAULT_PARTNER_TIMEOUT_MS
  const budget = createBudget(o.db.prisma, {
    limitPerMinute: o.limitPerMinute,
    instanceId,
    marginMs: o.budgetMarginMs,
    clock: o.budgetClock,
    liveShare: o.live?.share ?? LIVE_DEFAULTS.share,
  })
  const partner = createPartnerClient({
    baseUrl: o.partner.baseUrl,
    apiKey: o.partner.apiKey,
    timeoutMs,
    maxBodyBytes: o.partner.maxBodyBytes,
    maxSlots: o.partner.maxSlots,
    maxHaltMs: o.partner.maxHaltMs,
    clock: o.clock,
    logger: o.logger,
  })
  const demand = createReadCounter({ db: o.db.prisma, clock: o.clock, logger: o.logger })
  const claimTtlMs = claimTtlFor(timeoutMs)
  const engine = createSyncEngine({
    db: o.db,
    partner,
    budget,
    clock: o.clock,
    logger: o.logger,
    instanceId,
    claimTtlMs,
    observer: o.observer,
    demand,
    answerTimeoutMs: timeoutMs,
    ...o.engine,
  })
  const live = createLiveChecker({
    db: o.db,
    partner,
    budget,
    clock: o.clock,
    logger: o.logger,
    observer: o.observer,
    instanceId,
    strategy: o.engine?.strategy ?? smartStrategy,
    perClientPerMinute: o.live?.perClientPerMinute ?? LIVE_DEFAULTS.perClientPerMinute,
    claimTtlMs,
    partnerTimeoutMs: timeoutMs,
    todayLeadMs: engine.todayLeadMs,
  })
  const control = createSyncControl({
    prisma: (o.controlDb ?? o.db).prisma,
    clock: o.clock,
    budget,
    timeZone: o.timeZone,
    partner: { baseUrl: o.partner.baseUrl, sandbox: o.partner.sandbox },
    engine,
  })
  return { engine, control, budget, live, instanceId, demand }
}

import { manualClock } from '../../server/clock.ts'
import { startSandbox, type Sandbox, type SandboxOptions } from '../../server/sandbox/server.ts'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import { createSync, type SyncAssembly, type SyncAssemblyOptions } from '../../server/sync/index.ts'
import { createTestDatabase, type TestDatabase } from './db.ts'

export const TZ = 'Asia/Singapore'

export interface CapturedLog {
  lines: { level: string; obj: object; msg?: string }[]
  logger: SyncAssemblyOptions['logger']
}

export function captureLogger(): CapturedLog {
  const lines: CapturedLog['lines'] = []
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg })
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } }
}

export interface SyncWorld {
  db: TestDatabase
  sandbox: Sandbox
  clock: ReturnType<typeof manualClock>
  log: CapturedLog
  makeSync(over?: Partial<SyncAssemblyOptions>): SyncAssembly
  close(): Promise<void>
}

/**
 * A real database, a real HTTP sandbox and a hand-moved clock shared by
 * both, so a test decides exactly when time passes. (The real-time test in
 * tests/reliability/real-partner.test.ts shares no clock.)
 */
export async function createSyncWorld(opts: { start?: number; products?: number[]; sandbox?: SandboxOptions } = {}): Promise<SyncWorld> {
  const clock = manualClock(opts.start ?? zonedTimeToInstant('2026-12-01', '06:00', TZ))
  const db = await createTestDatabase()
  const sandbox = await startSandbox({ products: 2, rateLimitPerMinute: 30, clock, ...opts.sandbox })
  const ids = opts.products ?? [14, 15]
  await db.prisma.product.createMany({ data: ids.map((id) => ({ id, timeZone: TZ })) })
  const log = captureLogger()
  const syncs: SyncAssembly[] = []
  return {
    db,
    sandbox,
    clock,
    log,
    makeSync(over = {}) {
      const s = createSync({
        pool: db.pool,
        prisma: db.prisma,
        clock,
        logger: log.logger,
        partner: { baseUrl: sandbox.url, apiKey: sandbox.apiKey, sandbox: true, timeoutMs: 5_000 },
        limitPerMinute: 30,
        timeZone: TZ,
        // The shared window on the test's clock, so moving it frees the budget.
        budgetClock: clock,
        ...over,
        // Tests of what is due drain to idle; spending spare budget early has its own test.
        engine: { maxInFlight: 4, spendSpareBudget: false, ...over.engine },
      })
      syncs.push(s)
      return s
    },
    async close() {
      for (const s of syncs) await s.engine.stop().catch(() => {})
      await sandbox.close()
      await db.drop()
    },
  }
}

import { createHash } from 'node:crypto'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import type { Logger } from '../logger.ts'

/** Every action the audit trail records. */
export const ADMIN_ACTIONS = ['sync.pause', 'sync.resume', 'sync.halt_cleared', 'sync.run', 'products.upsert', 'products.remove'] as const
export type AdminActionName = (typeof ADMIN_ACTIONS)[number]

export interface AuditEntry {
  action: AdminActionName
  target: string
  tokenId: string
  requestId: string | null
}

/** One row of GET /api/v1/audit (docs/contracts/public-api.md). */
export interface AuditView extends AuditEntry {
  at: string
}

export interface AuditService {
  /** Logs the action (info, 'admin action') and stores it; a storage failure is logged, never thrown (the action is done). */
  record(entry: AuditEntry): Promise<void>
  /** The last `limit` actions, newest first. */
  list(limit: number): Promise<{ actions: AuditView[] }>
  /** The partner halt a global resume would lift (a 429's reset or the failure breaker), if one is in force. */
  haltInForce(): Promise<string | null>
}

/** Old rows go after this long... */
export const AUDIT_RETENTION_DAYS = 90
/** ...and beyond this many, the oldest go (a script calling `run` in a loop must not fill the disk). */
export const AUDIT_MAX_ROWS = 100_000
const PRUNE_EVERY_MS = 3_600_000

/**
 * Names a credential without revealing it: the first 8 hex digits of its
 * SHA-256. Enough to tell two tokens apart in the trail (and to match the
 * one an operator holds, with `printf %s "$ADMIN_TOKEN" | sha256sum`), far
 * too little to guess it from.
 */
export function tokenIdOf(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 8)
}

export function createAuditService(o: { prisma: Db; clock: Clock; logger: Logger }): AuditService {
  const { prisma, clock, logger } = o
  let lastPruneAt = Number.NEGATIVE_INFINITY

  // Admin actions are rare, so pruning rides on them (at most hourly per instance) instead of a timer of its own.
  async function prune(now: number): Promise<void> {
    if (now - lastPruneAt < PRUNE_EVERY_MS) return
    lastPruneAt = now
    const cutoff = new Date(now - AUDIT_RETENTION_DAYS * 86_400_000)
    await prisma.$executeRaw`DELETE FROM admin_action WHERE at < ${cutoff} OR id <= (SELECT max(id) FROM admin_action) - ${AUDIT_MAX_ROWS}`
  }

  return {
    async record(entry) {
      const now = clock.now()
      logger.info({ ...entry }, 'admin action')
      try {
        await prisma.adminAction.create({ data: { ...entry, at: new Date(now) } })
        await prune(now)
      } catch (err) {
        logger.error({ ...entry, err: (err as Error).message }, 'admin action not stored in the audit trail')
      }
    },
    async list(limit) {
      const rows = await prisma.adminAction.findMany({ orderBy: { id: 'desc' }, take: limit })
      return {
        actions: rows.map((r) => ({
          at: r.at.toISOString(),
          action: r.action as AdminActionName,
          target: r.target,
          tokenId: r.tokenId,
          requestId: r.requestId,
        })),
      }
    },
    async haltInForce() {
      const c = await prisma.syncControl.findUnique({ where: { id: 1 }, select: { haltedUntil: true, partnerFailures: true } })
      if (!c) return null
      const now = clock.now()
      const parts = [
        ...(c.haltedUntil && c.haltedUntil.getTime() > now ? [`rate-limit halt until ${c.haltedUntil.toISOString()}`] : []),
        ...(c.partnerFailures > 0 ? [`partner failure backoff (${c.partnerFailures} failures in a row)`] : []),
      ]
      return parts.length ? parts.join('; ') : null
    },
  }
}

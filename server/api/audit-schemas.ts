import { z } from 'zod'
import { ADMIN_ACTIONS } from '../audit/service.ts'

export const AUDIT_DEFAULT_LIMIT = 50
export const AUDIT_MAX_LIMIT = 500
const LIMIT = `must be a whole number from 1 to ${AUDIT_MAX_LIMIT}`

const auditLimitSchema = z
  .number({ error: LIMIT })
  .int({ error: LIMIT })
  .min(1, { error: LIMIT })
  .max(AUDIT_MAX_LIMIT, { error: LIMIT })
  .meta({ description: `How many of the last actions (default ${AUDIT_DEFAULT_LIMIT})` })

/** tRPC `admin.audit`: no input means the last 50. */
export const auditInput = z
  .strictObject({
    /** How many of the last actions (1 to 500; default 50). */
    limit: auditLimitSchema.optional(),
  })
  .optional()

/** `GET /api/v1/audit?limit=`: digits become a number; anything else stays text so the schema names `limit`. */
export const auditQuery = z.object({
  limit: z.preprocess((v) => (typeof v === 'string' && /^\d{1,6}$/.test(v) ? Number(v) : v), auditLimitSchema.optional()),
})

export const adminActionSchema = z
  .object({
    at: z.string().meta({ description: 'When (ISO)' }),
    action: z.enum(ADMIN_ACTIONS).meta({ description: 'What was done; `sync.halt_cleared` accompanies a global resume that lifted a partner halt' }),
    target: z.string().meta({ description: 'What it acted on: `all`, `product 14`, `product 14 2026-12-01..2026-12-07`, `partner (...)`' }),
    tokenId: z.string().meta({ description: 'Names the credential (first 8 hex digits of its SHA-256), never contains it' }),
    requestId: z.string().nullable().meta({ description: "The request's x-request-id, as in its log records" }),
  })
  .meta({ id: 'AdminAction' })

export const auditResultSchema = z
  .object({
    /** The last admin actions, newest first. */
    actions: z.array(adminActionSchema),
  })
  .meta({ id: 'AuditResult' })

import { AUDIT_DEFAULT_LIMIT, auditInput } from '../audit-schemas.ts'
import { adminProcedure, router } from '../trpc.ts'

export const adminRouter = router({
  /** `GET /api/v1/audit?limit=`: the last admin actions, newest first. */
  audit: adminProcedure.input(auditInput).query(({ ctx, input }) => ctx.services.audit.list(input?.limit ?? AUDIT_DEFAULT_LIMIT)),
})

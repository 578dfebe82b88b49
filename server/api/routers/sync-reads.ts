import { explainQuerySchema } from '../sync-read-schemas.ts'
import { publicProcedure } from '../trpc.ts'

/** Public read-only sync views (the dashboard draws them); spread into the sync router. */
export const syncReadProcedures = {
  /** `GET /api/v1/sync/freshness` */
  freshness: publicProcedure.query(({ ctx }) => ctx.services.syncReads.freshness()),
  /** `GET /api/v1/sync/budget-history` */
  budgetHistory: publicProcedure.query(({ ctx }) => ctx.services.syncReads.budgetHistory()),
  /** `GET /api/v1/sync/explain?productId=&date=` */
  explain: publicProcedure.input(explainQuerySchema).query(({ ctx, input }) => ctx.services.syncReads.explain(input.productId, input.date)),
}

import { runInput, syncStatusSchema, syncTargetInput } from '../schemas.ts'
import { adminProcedure, publicProcedure, router } from '../trpc.ts'
import { syncReadProcedures } from './sync-reads.ts'

// Input is parsed after the admin check (adminProcedure comes first), so an
// anonymous caller learns nothing about the input rules: always 401.
export const syncRouter = router({
  pause: adminProcedure.input(syncTargetInput).mutation(({ ctx, input }) => ctx.services.sync.pause(input?.productId)),
  resume: adminProcedure.input(syncTargetInput).mutation(({ ctx, input }) => ctx.services.sync.resume(input?.productId)),
  run: adminProcedure.input(runInput).mutation(({ ctx, input }) => ctx.services.sync.run(input ?? {})),
  // Parsed so the answer's type (and the SDK's) names the tiers instead of any
  // string, and an engine reporting another set of tiers fails here, loudly.
  status: publicProcedure.query(async ({ ctx }) => syncStatusSchema.parse(await ctx.services.sync.status())),
  ...syncReadProcedures,
})

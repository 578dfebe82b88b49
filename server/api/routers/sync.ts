import { runInput, syncTargetInput } from '../schemas.ts'
import { adminProcedure, publicProcedure, router } from '../trpc.ts'
import { syncReadProcedures } from './sync-reads.ts'

// Input is parsed after the admin check (adminProcedure comes first), so an
// anonymous caller learns nothing about the input rules: always 401.
export const syncRouter = router({
  pause: adminProcedure.input(syncTargetInput).mutation(({ ctx, input }) => ctx.services.sync.pause(input?.productId)),
  resume: adminProcedure.input(syncTargetInput).mutation(({ ctx, input }) => ctx.services.sync.resume(input?.productId)),
  run: adminProcedure.input(runInput).mutation(({ ctx, input }) => ctx.services.sync.run(input ?? {})),
  status: publicProcedure.query(({ ctx }) => ctx.services.sync.status()),
  ...syncReadProcedures,
})

import { audited, productTarget, runTarget } from '../audit.ts'
import { runInput, syncTargetInput } from '../schemas.ts'
import { syncStatusSchema } from '../sync-schemas.ts'
import { adminProcedure, publicProcedure, router } from '../trpc.ts'
import { syncReadProcedures } from './sync-reads.ts'

// Input is parsed after the admin check (adminProcedure comes first), so an
// anonymous caller learns nothing about the input rules: always 401.
export const syncRouter = router({
  /** `POST /api/v1/sync/pause`: stops fetching, for one product (`productId`) or all. */
  pause: adminProcedure
    .input(syncTargetInput)
    .mutation(({ ctx, input }) => audited(ctx, 'sync.pause', productTarget(input?.productId), () => ctx.services.sync.pause(input?.productId))),
  /** `POST /api/v1/sync/resume`: fetches again; a global resume also lifts a partner 429's halt. */
  resume: adminProcedure.input(syncTargetInput).mutation(async ({ ctx, input }) => {
    // A global resume also lifts a partner halt: the trail says so, in a record of its own.
    const halt = input?.productId === undefined ? await ctx.services.audit.haltInForce() : null
    const state = await audited(ctx, 'sync.resume', productTarget(input?.productId), () => ctx.services.sync.resume(input?.productId))
    if (halt) await audited(ctx, 'sync.halt_cleared', `partner (${halt})`, async () => undefined)
    return state
  }),
  /** `POST /api/v1/sync/run`: queues days (default: every product, today to today + 59) at top priority. */
  run: adminProcedure.input(runInput).mutation(({ ctx, input }) => audited(ctx, 'sync.run', runTarget(input ?? {}), () => ctx.services.sync.run(input ?? {}))),
  // Parsed so the answer's type (and the SDK's) names the tiers instead of any
  // string, and an engine reporting another set of tiers fails here, loudly.
  /** `GET /api/v1/sync/status`: the engine, its queue, freshness per tier, the partner budget. */
  status: publicProcedure.query(async ({ ctx }) => syncStatusSchema.parse(await ctx.services.sync.status())),
  ...syncReadProcedures,
})

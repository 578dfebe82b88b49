import { publicProcedure, router } from '../trpc.ts'

export const healthRouter = router({
  live: publicProcedure.query(() => ({ ok: true as const })),
  ready: publicProcedure.query(({ ctx }) => ctx.services.health.ready()),
})

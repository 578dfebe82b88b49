import { publicProcedure, router } from '../trpc.ts'

export const healthRouter = router({
  live: publicProcedure.query(({ ctx }) => ctx.services.health.live()),
  ready: publicProcedure.query(({ ctx }) => ctx.services.health.ready()),
})

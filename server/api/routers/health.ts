import { publicProcedure, router } from '../trpc.ts'

export const healthRouter = router({
  /** `GET /health`: is the process working (else restart it). */
  live: publicProcedure.query(({ ctx }) => ctx.services.health.live()),
  /** `GET /ready`: can it serve requests now (database reachable and migrated). */
  ready: publicProcedure.query(({ ctx }) => ctx.services.health.ready()),
})

import { router } from '../trpc.ts'
import { adminRouter } from './admin.ts'
import { availabilityRouter } from './availability.ts'
import { healthRouter } from './health.ts'
import { productsRouter } from './products.ts'
import { syncRouter } from './sync.ts'

export const appRouter = router({
  /** Stored availability: a day's slots, the open dates, the change feed. Public. */
  availability: availabilityRouter,
  /** The sync engine: status and its views (public), pause, resume and run (admin). */
  sync: syncRouter,
  /** Liveness and readiness, as `/health` and `/ready`. */
  health: healthRouter,
  /** The catalogue of synced products (admin). */
  products: productsRouter,
  /** The audit trail of admin actions (admin). */
  admin: adminRouter,
})

export type AppRouter = typeof appRouter

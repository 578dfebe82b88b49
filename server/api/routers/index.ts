import { router } from '../trpc.ts'
import { adminRouter } from './admin.ts'
import { availabilityRouter } from './availability.ts'
import { healthRouter } from './health.ts'
import { productsRouter } from './products.ts'
import { syncRouter } from './sync.ts'

export const appRouter = router({
  availability: availabilityRouter,
  sync: syncRouter,
  health: healthRouter,
  products: productsRouter,
  admin: adminRouter,
})

export type AppRouter = typeof appRouter

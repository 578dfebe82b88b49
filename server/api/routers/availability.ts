import { datesInput, slotsInput } from '../schemas.ts'
import { publicProcedure, router } from '../trpc.ts'

export const availabilityRouter = router({
  /** `GET /api/v1/experience/:id/slots?date=` */
  slots: publicProcedure.input(slotsInput).query(({ ctx, input }) => ctx.services.availability.slots(input.productId, input.date)),
  /** `GET /api/v1/experience/:id/dates` */
  dates: publicProcedure.input(datesInput).query(({ ctx, input }) => ctx.services.availability.dates(input.productId)),
})

import { tracked } from '@trpc/server'
import { changesInput, datesInput, slotsInput } from '../schemas.ts'
import { publicProcedure, router } from '../trpc.ts'

export const availabilityRouter = router({
  /** `GET /api/v1/experience/:id/slots?date=` */
  slots: publicProcedure
    .input(slotsInput)
    .query(({ ctx, input }) => ctx.services.availability.slots(input.productId, input.date, { maxAgeS: input.maxAgeS, client: ctx.clientIp })),
  /** `GET /api/v1/experience/:id/dates` */
  dates: publicProcedure.input(datesInput).query(({ ctx, input }) => ctx.services.availability.dates(input.productId)),
  /**
   * `GET /api/v1/changes` (SSE). Each event is `tracked()` with its id, so
   * httpSubscriptionLink reconnects with `lastEventId` and resumes there.
   */
  changes: publicProcedure.input(changesInput).subscription(async function* ({ ctx, input, signal }) {
    for await (const e of ctx.services.changes.stream({ productIds: input?.productIds, lastEventId: input?.lastEventId, signal })) {
      yield tracked(String(e.id), e)
    }
  }),
})

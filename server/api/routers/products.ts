import { audited, productTarget } from '../audit.ts'
import { productRemoveInput, productUpsertInput } from '../schemas.ts'
import { adminProcedure, router } from '../trpc.ts'

// Admin only, like sync control: the admin check runs before input parsing, so an anonymous caller always gets 401.
export const productsRouter = router({
  /** `GET /api/v1/products` */
  list: adminProcedure.query(({ ctx }) => ctx.services.catalogue.list()),
  /** `PUT /api/v1/products/:id` */
  upsert: adminProcedure
    .input(productUpsertInput)
    .mutation(({ ctx, input }) =>
      audited(ctx, 'products.upsert', `${productTarget(input.productId)}${input.timeZone ? ` (${input.timeZone})` : ''}`, () =>
        ctx.services.catalogue.upsert(input.productId, input.timeZone),
      ),
    ),
  /** `DELETE /api/v1/products/:id` */
  remove: adminProcedure
    .input(productRemoveInput)
    .mutation(({ ctx, input }) => audited(ctx, 'products.remove', productTarget(input.productId), () => ctx.services.catalogue.remove(input.productId))),
})

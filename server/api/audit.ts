import type { AdminActionName } from '../audit/service.ts'
import { tokenIdOf } from '../audit/service.ts'
import type { Context } from './trpc.ts'

/**
 * Runs an admin action, then records it in the audit trail (log and
 * database) as done by this request's credential. Only actions that
 * succeeded are recorded: a refused one changed nothing.
 */
export async function audited<T>(ctx: Context, action: AdminActionName, target: string, run: () => Promise<T>): Promise<T> {
  const result = await run()
  await ctx.services.audit.record({ action, target, tokenId: tokenIdOf(ctx.adminToken), requestId: ctx.requestId ?? null })
  return result
}

export const productTarget = (productId: number | undefined) => (productId === undefined ? 'all' : `product ${productId}`)

/** `run`'s target: what it queued, as the request named it. */
export function runTarget(req: { productId?: number | undefined; from?: string | undefined; to?: string | undefined }): string {
  const range = req.from !== undefined || req.to !== undefined ? ` ${req.from ?? 'today'}..${req.to ?? 'horizon end'}` : ''
  return `${productTarget(req.productId)}${range}`
}

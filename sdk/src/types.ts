import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server'
import type { AppRouter } from './generated/app-router.ts'

export type { AppRouter, ErrorShape } from './generated/app-router.ts'

/** Every procedure's input, by path: `RouterInputs['availability']['slots']`. */
export type RouterInputs = inferRouterInputs<AppRouter>
/** Every procedure's result, by path: `RouterOutputs['sync']['status']`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>

// Named shortcuts for what consumers pass around; all derived, none restated.
export type SlotsInput = RouterInputs['availability']['slots']
export type SlotsResult = RouterOutputs['availability']['slots']
export type Slot = SlotsResult['slots'][number]
export type PaxAvailability = Slot['paxAvailability'][number]
export type Price = PaxAvailability['price']
export type Freshness = SlotsResult['freshness']
export type DatesInput = RouterInputs['availability']['dates']
export type DatesResult = RouterOutputs['availability']['dates']
export type OpenDate = DatesResult['dates'][number]
export type SyncTarget = RouterInputs['sync']['pause']
export type SyncState = RouterOutputs['sync']['pause']
export type RunInput = RouterInputs['sync']['run']
export type RunResult = RouterOutputs['sync']['run']
export type SyncStatus = RouterOutputs['sync']['status']
/** The freshness tiers `SyncStatus['tiers']` counts: `'today' | 'week' | 'month' | 'horizon'`. */
export type TierName = keyof SyncStatus['tiers']
export type ChangesInput = RouterInputs['availability']['changes']
/** One change-feed event: a stored day changed (`soldOut`: it went from some seats to none). */
export type ChangeEvent = (RouterOutputs['availability']['changes'] extends AsyncIterable<infer T> ? T : never) extends { data: infer D } ? D : never
export type Product = RouterOutputs['products']['upsert']
export type ProductsResult = RouterOutputs['products']['list']
export type ProductUpsertInput = RouterInputs['products']['upsert']
export type ProductRemoveInput = RouterInputs['products']['remove']

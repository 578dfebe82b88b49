export { createSlotsyncClient, type FetchLike, type HeadersInput, type SlotsyncClient, type SlotsyncClientOptions } from './client.ts'
export { SlotsyncError, type ClientErrorCode, type ServerErrorCode, type SlotsyncErrorCode } from './errors.ts'
export type { ChangeWatch, WatchChangesOptions } from './changes.ts'
export type { RetryOptions } from './retry.ts'
export type {
  AppRouter,
  ChangeEvent,
  ChangesInput,
  DatesInput,
  DatesResult,
  ErrorShape,
  Freshness,
  OpenDate,
  PaxAvailability,
  Price,
  Product,
  ProductRemoveInput,
  ProductsResult,
  ProductUpsertInput,
  RouterInputs,
  RouterOutputs,
  RunInput,
  RunResult,
  Slot,
  SlotsInput,
  SlotsResult,
  SyncState,
  SyncStatus,
  SyncTarget,
  TierName,
} from './types.ts'

// A new project as `tsc --init` sets it up (TypeScript 5.9, 6 and 7 print the
// same defaults: nodenext, strict, exactOptionalPropertyTypes,
// noUncheckedIndexedAccess, verbatimModuleSyntax, types: []) in a package of
// "type": "module". Type-checked only.
import { createSlotsyncClient, SlotsyncError, type SyncStatus, type TierName } from '@slotsync/sdk'

const slotsync = createSlotsyncClient({ url: 'http://127.0.0.1:3000', retry: { retries: 1 } })

export async function firstSlots(productId: number): Promise<string[]> {
  const { dates } = await slotsync.availability.dates.query({ productId })
  const first = dates[0]
  if (!first) return []
  try {
    const { slots } = await slotsync.availability.slots.query({ productId, date: first.date })
    return slots.map((s) => `${s.startDate} ${s.startTime}: ${s.remaining} left`)
  } catch (err) {
    if (err instanceof SlotsyncError && err.field === 'date') return []
    throw err
  }
}

// The tiers are the four names, so indexing by one needs no undefined check
// (noUncheckedIndexedAccess), and a name that is not a tier does not compile.
export function overdue(status: SyncStatus): number {
  const names: TierName[] = ['today', 'week', 'month', 'horizon']
  // @ts-expect-error not a tier
  void status.tiers.yesterday
  return names.reduce((sum, name) => sum + status.tiers[name].overdue, 0)
}

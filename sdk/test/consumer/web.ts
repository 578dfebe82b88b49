// A browser app: DOM lib only, no Node types, bundler resolution.
import { createSlotsyncClient, SlotsyncError, type ChangeEvent, type Slot } from '@slotsync/sdk'

const client = createSlotsyncClient({ url: 'https://slotsync.example.com', headers: { 'x-app': 'web' }, fetch: (url, init) => fetch(url, init) })

export async function cheapestSlot(productId: number, date: string, signal: AbortSignal): Promise<Slot | undefined> {
  try {
    const { slots } = await client.availability.slots.query({ productId, date }, { signal })
    return slots.filter((s) => s.price !== null).sort((a, b) => a.price!.finalPrice - b.price!.finalPrice)[0]
  } catch (e) {
    if (e instanceof SlotsyncError && e.code === 'NOT_FOUND') return undefined
    throw e
  }
}

/** Sold-out days as they happen, resuming after `lastEventId`; the events are typed from the router. */
export function watchSoldOut(lastEventId: number | undefined, onSoldOut: (productId: number, date: string) => void): () => number | undefined {
  const watch = client.watchChanges({
    productIds: [14, 15],
    ...(lastEventId !== undefined ? { lastEventId } : {}),
    onEvent: (e: ChangeEvent) => {
      if (e.soldOut) onSoldOut(e.productId, e.date)
    },
  })
  return () => {
    watch.close()
    return watch.lastEventId
  }
}

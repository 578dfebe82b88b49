/**
 * The change feed's event and the pure rules around it: what counts as added,
 * removed or changed, when a day sold out, how an id is read from a client,
 * how an event travels in a NOTIFY payload and on an SSE stream. No I/O here.
 */

/** One write that changed a stored day, as consumers see it. */
export interface ChangeEvent {
  /** From the log's sequence: grows with every event, whichever instance wrote it. */
  id: number
  productId: number
  /** The product-local calendar day, YYYY-MM-DD. */
  date: string
  /** When the partner answered (ISO). */
  fetchedAt: string
  slotsAdded: number
  slotsRemoved: number
  slotsChanged: number
  /** The day went from some remaining to none. */
  soldOut: boolean
}

/** The Postgres NOTIFY channel every instance LISTENs on. */
export const CHANGES_CHANNEL = 'slotsync_changes'

/** What the snapshot writer saw change, per slot. */
export interface SlotChanges {
  insertedSlotIds: readonly string[]
  updatedSlotIds: readonly string[]
  /** Slots of the day that vanished from the answer. */
  deletedSlots: number
  /** Slots whose pax rows were inserted, updated or deleted. */
  paxTouchedSlotIds: readonly string[]
}

/**
 * Slot-level counts: a new slot is added (its new pax rows are part of it), a
 * vanished slot removed, and a kept slot whose own columns or any pax row
 * changed counts once as changed.
 */
export function countSlotChanges(c: SlotChanges): { slotsAdded: number; slotsRemoved: number; slotsChanged: number } {
  const inserted = new Set(c.insertedSlotIds)
  const changed = new Set(c.updatedSlotIds)
  for (const id of c.paxTouchedSlotIds) if (!inserted.has(id)) changed.add(id)
  return { slotsAdded: inserted.size, slotsRemoved: c.deletedSlots, slotsChanged: changed.size }
}

/**
 * Sold out: seats were left before this write and none are now. A day never
 * fetched before (`before` null) did not "go" anywhere; a day that closes
 * (all slots gone) has nothing left to sell, so it counts.
 */
export function isSoldOut(before: number | null, after: number): boolean {
  return before !== null && before > 0 && after <= 0
}

// Postgres bigserial fits in 18 digits; a JS number holds ids exactly up to 2^53.
const EVENT_ID = /^\d{1,15}$/

/**
 * A client's last event id (`Last-Event-ID`, tRPC's `lastEventId`) → the id,
 * or undefined when it is not one (the caller answers 400 naming the field).
 */
export function parseEventId(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined
  if (typeof value !== 'string' || !EVENT_ID.test(value.trim())) return undefined
  return Number(value.trim())
}

/** Whether a subscriber filtering by `productIds` (none = all) wants the event. */
export function wants(productIds: ReadonlySet<number> | undefined, e: Pick<ChangeEvent, 'productId'>): boolean {
  return !productIds || productIds.size === 0 || productIds.has(e.productId)
}

/** A NOTIFY payload (JSON text, far under Postgres' 8000-byte limit) → the event, or undefined if foreign. */
export function parseNotifyPayload(payload: string | undefined): ChangeEvent | undefined {
  if (!payload) return undefined
  let v: unknown
  try {
    v = JSON.parse(payload)
  } catch {
    return undefined
  }
  const o = v as Record<string, unknown>
  if (!o || typeof o !== 'object') return undefined
  const id = parseEventId(o.id)
  if (id === undefined || typeof o.productId !== 'number' || typeof o.date !== 'string' || typeof o.fetchedAt !== 'string') return undefined
  const n = (x: unknown) => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : undefined)
  const added = n(o.slotsAdded)
  const removed = n(o.slotsRemoved)
  const changed = n(o.slotsChanged)
  if (added === undefined || removed === undefined || changed === undefined || typeof o.soldOut !== 'boolean') return undefined
  return {
    id,
    productId: o.productId,
    date: o.date,
    fetchedAt: o.fetchedAt,
    slotsAdded: added,
    slotsRemoved: removed,
    slotsChanged: changed,
    soldOut: o.soldOut,
  }
}

/** One Server-Sent Events message: `id:` lets an EventSource resume with `Last-Event-ID`. */
export function sseMessage(e: ChangeEvent): string {
  return `id: ${e.id}\nevent: change\ndata: ${JSON.stringify(e)}\n\n`
}

import { Prisma, type Db } from '../db/client.ts'
import { CHANGES_CHANNEL, parseNotifyPayload, type ChangeEvent } from './event.ts'

/**
 * The change log's SQL: append an event (with its NOTIFY) inside the
 * snapshot writer's transaction, read events after an id for a client that
 * resumes, prune what is older than the retention.
 */
/** What the readers and the pruner need of the client. */
export type ChangeLogDb = Pick<Db, '$queryRaw' | '$executeRaw'>

/**
 * Held from an event's insert to its commit. Ids come from a sequence, but a
 * sequence hands them out at insert, not at commit: two writers could commit
 * 6 before 5, and a client that saw 6 and resumes "after 6" would never see 5.
 * Under this lock ids are taken and committed in one order, and NOTIFY
 * delivers in commit order, so every stream is in id order. The lock covers
 * only the tail of a write that changed data (insert → commit).
 */
export const CHANGE_LOG_LOCK_KEY = 72_707_371

/** The event as JSON, the same text for NOTIFY payloads and replays. */
const EVENT_JSON = `json_build_object(
  'id', e.id, 'productId', e.product_id, 'date', e.date::text,
  'fetchedAt', to_char(e.fetched_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  'slotsAdded', e.slots_added, 'slotsRemoved', e.slots_removed, 'slotsChanged', e.slots_changed, 'soldOut', e.sold_out)::text`

export type NewChangeEvent = Omit<ChangeEvent, 'id' | 'fetchedAt'> & { fetchedAt: Date }

/**
 * Appends one event and notifies every instance. Call inside the writer's
 * transaction: the event commits (and the NOTIFY is delivered) with the data,
 * or neither does.
 */
export async function appendChangeEvent(tx: Prisma.TransactionClient, e: NewChangeEvent): Promise<number> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHANGE_LOG_LOCK_KEY}::bigint)`
  const rows = await tx.$queryRaw<{ id: string }[]>`
    WITH e AS (
      INSERT INTO change_event (product_id, date, slots_added, slots_removed, slots_changed, sold_out, fetched_at)
      VALUES (${e.productId}, ${e.date}::date, ${e.slotsAdded}, ${e.slotsRemoved}, ${e.slotsChanged}, ${e.soldOut}, ${e.fetchedAt}::timestamptz) RETURNING *)
    SELECT e.id::text AS id, pg_notify(${CHANGES_CHANNEL}, ${Prisma.raw(EVENT_JSON)})::text AS notified FROM e`
  return Number(rows[0]!.id)
}

/** Events with id > `afterId`, oldest first, at most `limit` (a page of a replay). */
export async function readChangesAfter(
  db: Pick<Db, '$queryRaw'>,
  afterId: number,
  opts: { productIds?: readonly number[]; limit: number },
): Promise<ChangeEvent[]> {
  const ids = opts.productIds?.length ? [...opts.productIds] : null
  const rows = await db.$queryRaw<{ e: string }[]>`
    SELECT ${Prisma.raw(EVENT_JSON)} AS e FROM change_event e
    WHERE e.id > ${afterId} AND (${ids}::int[] IS NULL OR e.product_id = ANY(${ids}::int[]))
    ORDER BY e.id LIMIT ${opts.limit}`
  return rows.map((r) => parseNotifyPayload(r.e)!)
}

/** The newest event's id (0 when the log is empty). */
export async function latestEventId(db: Pick<Db, '$queryRaw'>): Promise<number> {
  const rows = await db.$queryRaw<{ id: string | null }[]>`SELECT max(id)::text AS id FROM change_event`
  return Number(rows[0]?.id ?? 0)
}

/**
 * Deletes events older than `retentionMs` (database clock: the one that
 * stamped them), in batches so a large backlog never holds locks for long.
 */
export async function pruneChanges(db: Pick<Db, '$executeRaw'>, retentionMs: number, batch = 10_000): Promise<number> {
  let total = 0
  for (;;) {
    const n = await db.$executeRaw`
      DELETE FROM change_event WHERE id IN (
        SELECT id FROM change_event WHERE created_at < now() - ${retentionMs} * interval '1 millisecond' ORDER BY id LIMIT ${batch})`
    total += n
    if (n < batch) return total
  }
}

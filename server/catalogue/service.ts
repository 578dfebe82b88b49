import type { Clock } from '../clock.ts'
import { isValidTimeZone } from '../config.ts'
import { Prisma, type PrismaClient } from '../db/client.ts'
import { sqlState, transaction, TX } from '../db/transaction.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import { DISPATCH_LOCK_KEY } from '../sync/budget.ts'
import { maintainHorizon } from '../sync/claims.ts'

/**
 * Products at run time: list, add (or change the time zone of), remove.
 * SYNC_PRODUCT_IDS only seeds the table at start (server.ts); from then on
 * this service is how the catalogue grows and shrinks.
 */

/** One product as the admin API shows it. */
export interface ProductView {
  id: number
  timeZone: string
  paused: boolean
  /** When the product was added (ISO). */
  addedAt: string
  /** Its most recent successful fetch of any day (ISO), null if none. */
  lastSuccessAt: string | null
  /** The error of its most recent failed day still failing, null if none. */
  lastError: string | null
}

export interface CatalogueService {
  list(): Promise<{ products: ProductView[] }>
  /** Adds the product (its days are due at once) or updates its time zone. Idempotent. */
  upsert(productId: number, timeZone?: string): Promise<ProductView>
  /** Deletes the product and everything stored for it, in one transaction; NotFoundError if unknown. */
  remove(productId: number): Promise<{ removed: number }>
}

export interface CatalogueDeps {
  prisma: PrismaClient
  clock: Pick<Clock, 'now'>
  /** A new product's time zone when the caller names none. */
  defaultTimeZone: string
  /** Told after a removal commits (this process's read cache forgets the product). */
  onRemoved?: (productId: number) => void
  /** Told after a product is added, changed or removed (this process's sync engine plans again). */
  onChanged?: () => void
}

const MAX_INT4 = 2_147_483_647

// Raw: two per-product lookups (last success, latest error) in one statement, which model queries would make one per product.
const VIEW_SQL = Prisma.sql`
SELECT p.id, p.time_zone, p.paused, p.created_at, f.last_success_at, e.last_error
FROM product p
LEFT JOIN LATERAL (SELECT max(last_fetched_at) AS last_success_at FROM day_fetch_state WHERE product_id = p.id) f ON true
LEFT JOIN LATERAL (SELECT last_error FROM day_fetch_state WHERE product_id = p.id AND last_error IS NOT NULL
                   ORDER BY last_attempt_at DESC NULLS LAST LIMIT 1) e ON true`

interface ViewRow {
  id: number
  time_zone: string
  paused: boolean
  created_at: Date
  last_success_at: Date | null
  last_error: string | null
}

function toView(r: ViewRow): ProductView {
  return {
    id: r.id,
    timeZone: r.time_zone,
    paused: r.paused,
    addedAt: r.created_at.toISOString(),
    lastSuccessAt: r.last_success_at?.toISOString() ?? null,
    lastError: r.last_error,
  }
}

// The routers validate with zod first; these guards keep the service safe when called directly.
function checkProductId(productId: number): void {
  if (!Number.isInteger(productId) || productId < 1 || productId > MAX_INT4)
    throw new BadRequestError('productId', `must be a positive integer (1 to ${MAX_INT4})`)
}

export function createCatalogueService(deps: CatalogueDeps): CatalogueService {
  const { prisma } = deps

  async function view(productId: number): Promise<ProductView | undefined> {
    const rows = await prisma.$queryRaw<ViewRow[]>`${VIEW_SQL} WHERE p.id = ${productId}`
    return rows[0] && toView(rows[0])
  }

  /** Intl and Postgres each keep a zone list; the horizon SQL needs Postgres to know the zone too. */
  async function checkTimeZone(tz: string): Promise<void> {
    const unknown = () => new BadRequestError('timeZone', `is not a known IANA time zone: "${tz}"`)
    if (!isValidTimeZone(tz)) throw unknown()
    try {
      await prisma.$queryRaw`SELECT (now() AT TIME ZONE ${tz})::text`
    } catch (err) {
      if (sqlState(err) === '22023') throw unknown()
      throw err
    }
  }

  return {
    async list() {
      const rows = await prisma.$queryRaw<ViewRow[]>`${VIEW_SQL} ORDER BY p.id`
      return { products: rows.map(toView) }
    },

    async upsert(productId, timeZone) {
      checkProductId(productId)
      if (timeZone !== undefined) await checkTimeZone(timeZone)
      // Writes only when something differs, so a repeated call changes nothing (idempotent).
      // Raw: a conditional ON CONFLICT update, which Prisma's upsert cannot express.
      const written = await prisma.$executeRaw`
        INSERT INTO product (id, time_zone) VALUES (${productId}, coalesce(${timeZone ?? null}, ${deps.defaultTimeZone}))
        ON CONFLICT (id) DO UPDATE SET time_zone = coalesce(${timeZone ?? null}, product.time_zone), active = true, updated_at = now()
        WHERE product.time_zone IS DISTINCT FROM coalesce(${timeZone ?? null}, product.time_zone) OR NOT product.active`
      // The new days are due now and never fetched; the planner takes today first.
      if (written) {
        await maintainHorizon(prisma, deps.clock.now())
        deps.onChanged?.()
      }
      const v = await view(productId)
      if (!v) throw new NotFoundError(`no product ${productId}`) // removed concurrently
      return v
    },

    async remove(productId) {
      checkProductId(productId)
      await transaction(prisma, TX.control, async (tx) => {
        // The dispatcher's lock first: every send decision holds it and checks
        // inside it that the product exists, so once this commits no instance
        // sends for the product. Then the product row: FOR UPDATE waits for
        // snapshot writers holding it FOR KEY SHARE, and a writer arriving
        // later finds no row and writes nothing.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${DISPATCH_LOCK_KEY})`
        const found = await tx.$executeRaw`SELECT 1 FROM product WHERE id = ${productId} FOR UPDATE`
        if (!found) throw new NotFoundError(`no product ${productId}`)
        // One join delete: a relation filter in deleteMany would list the slot ids first.
        await tx.$executeRaw`DELETE FROM pax_availability p USING slot s WHERE p.slot_id = s.id AND s.product_id = ${productId}`
        await tx.slot.deleteMany({ where: { productId } })
        await tx.dayFetchState.deleteMany({ where: { productId } })
        await tx.changeEvent.deleteMany({ where: { productId } })
        // The partner budget's window counts these requests until they age out:
        // deleting them would let instances overspend it, so they only forget the product.
        await tx.partnerRequest.updateMany({ where: { productId }, data: { productId: null, date: null } })
        await tx.product.delete({ where: { id: productId } })
      })
      deps.onRemoved?.(productId)
      deps.onChanged?.()
      return { removed: productId }
    },
  }
}

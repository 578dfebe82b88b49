import type { Db } from '../../server/db/client.ts'
import { validateDay, type PartnerSlotInput } from '../../server/partner/schema.ts'

export interface NormalSlot {
  providerSlotId: string
  startTime: string
  endTime: string
  remaining: number
  variantId: number
  pax: { type: string; isPrimary: boolean; min: number; max: number; remaining: number; finalPrice: string; originalPrice: string; discount: string }[]
}

/** A partner answer, validated and reduced to comparable form. */
export function normalizeServed(body: PartnerSlotInput[], date: string): NormalSlot[] {
  const v = validateDay(body, date)
  if (!v.ok) throw new Error(`served body invalid: ${v.reason}`)
  return v.slots
    .map((s) => ({
      providerSlotId: s.providerSlotId,
      startTime: s.startTime,
      endTime: s.endTime,
      remaining: s.remaining,
      variantId: s.variantId,
      pax: s.paxAvailability
        .map((p) => ({
          type: p.type,
          isPrimary: p.isPrimary,
          min: p.min,
          max: p.max,
          remaining: p.remaining,
          finalPrice: p.price.finalPrice,
          originalPrice: p.price.originalPrice,
          discount: p.price.discount,
        }))
        .sort((a, b) => a.type.localeCompare(b.type)),
    }))
    .sort((a, b) => a.providerSlotId.localeCompare(b.providerSlotId))
}

/** What the database holds for one day, in the same form. */
export async function storedDay(prisma: Pick<Db, '$queryRawUnsafe'>, productId: number, date: string): Promise<NormalSlot[]> {
  const rows = await prisma.$queryRawUnsafe<
    { provider_slot_id: string; start_time: string; end_time: string; remaining: number; variant_id: number; pax: NormalSlot['pax'] }[]
  >(
    `SELECT s.provider_slot_id, s.start_time, s.end_time, s.remaining, s.variant_id,
            coalesce(json_agg(json_build_object('type', p.type, 'isPrimary', p.is_primary, 'min', p.min, 'max', p.max, 'remaining', p.remaining,
              'finalPrice', p.final_price::text, 'originalPrice', p.original_price::text, 'discount', p.discount::text) ORDER BY p.type) FILTER (WHERE p.id IS NOT NULL), '[]') AS pax
     FROM slot s LEFT JOIN pax_availability p ON p.slot_id = s.id
     WHERE s.product_id = $1 AND s.date = $2::date GROUP BY s.id ORDER BY s.provider_slot_id`,
    productId,
    date,
  )
  return rows.map((r) => ({
    providerSlotId: r.provider_slot_id,
    startTime: r.start_time,
    endTime: r.end_time,
    remaining: r.remaining,
    variantId: r.variant_id,
    pax: [...r.pax].sort((a: { type: string }, b: { type: string }) => a.type.localeCompare(b.type)),
  }))
}

import { z } from 'zod'

/**
 * The partner's inventory answer (docs/contracts/partner-api.md), validated
 * strictly: a day that fails any rule here is rejected whole, never written.
 *
 * Money arrives as JSON numbers. It is turned into a decimal string here,
 * once, from the number's shortest round-trip text (what the partner wrote),
 * so no binary floating point value ever reaches the database.
 */
const MAX_PRICE = 10_000_000_000 // numeric(12,2)

const money = z
  .number({ message: 'must be a number' })
  .finite()
  .min(0, { message: 'must not be negative' })
  .lt(MAX_PRICE, { message: 'is too large' })
  .transform((n, ctx) => {
    const text = String(n)
    if (!/^\d+(\.\d{1,2})?$/.test(text)) {
      ctx.addIssue({ code: 'custom', message: `must have at most two decimals, got ${text}` })
      return z.NEVER
    }
    return Number(n).toFixed(2)
  })

const count = z.number().int({ message: 'must be an integer' }).min(0, { message: 'must not be negative' }).max(2_147_483_647)
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be HH:mm' })
const currency = z.string().regex(/^[A-Z]{3}$/, { message: 'must be a three-letter currency code' })

export const partnerPriceSchema = z.object({
  discount: money,
  finalPrice: money,
  originalPrice: money,
  currencyCode: currency,
})

export const partnerPaxSchema = z.object({
  type: z.string().min(1).max(100),
  name: z.string().max(200),
  description: z
    .string()
    .max(10_000)
    .nullish()
    .transform((v) => v ?? ''),
  isPrimary: z
    .boolean()
    .optional()
    .transform((v) => v ?? false),
  min: count,
  max: count,
  remaining: count,
  price: partnerPriceSchema,
})

export const partnerSlotSchema = z.object({
  startDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be YYYY-MM-DD' }),
  startTime: hhmm,
  endTime: hhmm,
  providerSlotId: z.string().min(1).max(200),
  remaining: count,
  currencyCode: currency,
  variantId: z.number().int(),
  paxAvailability: z.array(partnerPaxSchema),
})

export const partnerDaySchema = z.array(partnerSlotSchema)

export type PartnerPax = z.output<typeof partnerPaxSchema>
export type PartnerSlot = z.output<typeof partnerSlotSchema>
/** What the partner wrote, before validation (the sandbox produces this). */
export type PartnerSlotInput = z.input<typeof partnerSlotSchema>

export type DayValidation = { ok: true; slots: PartnerSlot[] } | { ok: false; reason: string }

/**
 * Validates one day's answer for (product, date). Beyond the shape: every
 * slot is on the day asked for, slot ids and pax types are unique, so the
 * snapshot writer never sees an answer that would collide with itself.
 */
export function validateDay(body: unknown, date: string): DayValidation {
  const parsed = partnerDaySchema.safeParse(body)
  if (!parsed.success) return { ok: false, reason: issueReason(parsed.error.issues[0]!, 0) }
  return checkDay(parsed.data, date)
}

/** Slots validated between two yields to the event loop (validateDayChunked). */
export const SLOTS_PER_CHUNK = 100

/**
 * validateDay for answers that may be large: a day of more than `maxSlots`
 * slots is rejected before any slot is validated, and the rest are
 * validated SLOTS_PER_CHUNK at a time, yielding to the event loop between
 * chunks, so a big day costs other requests a chunk's time at most, not the
 * whole day's. Same result and reasons as validateDay.
 */
export async function validateDayChunked(body: unknown, date: string, opts: { maxSlots: number; yieldNow?: () => Promise<void> }): Promise<DayValidation> {
  if (!Array.isArray(body)) return validateDay(body, date)
  if (body.length > opts.maxSlots) return { ok: false, reason: `body: ${body.length} slots, over the limit of ${opts.maxSlots}` }
  const yieldNow = opts.yieldNow ?? (() => new Promise<void>((resolve) => setImmediate(resolve)))
  const slots: PartnerSlot[] = []
  for (let from = 0; from < body.length; from += SLOTS_PER_CHUNK) {
    if (from) await yieldNow()
    const parsed = partnerDaySchema.safeParse(body.slice(from, from + SLOTS_PER_CHUNK))
    if (!parsed.success) return { ok: false, reason: issueReason(parsed.error.issues[0]!, from) }
    for (const s of parsed.data) slots.push(s)
  }
  return checkDay(slots, date)
}

/** A zod issue as a reason; `offset` turns a chunk's slot index into the day's. */
function issueReason(issue: z.core.$ZodIssue, offset: number): string {
  const path = issue.path.map((p, i) => (i === 0 && typeof p === 'number' ? p + offset : String(p)))
  return `${path.length ? path.join('.') : 'body'}: ${issue.message}`
}

/** The rules across slots, on validated slots. */
function checkDay(slots: PartnerSlot[], date: string): DayValidation {
  const seen = new Set<string>()
  for (const [i, s] of slots.entries()) {
    if (s.startDate !== date) return { ok: false, reason: `${i}.startDate: ${s.startDate} is not the day asked for (${date})` }
    if (seen.has(s.providerSlotId)) return { ok: false, reason: `${i}.providerSlotId: duplicate "${s.providerSlotId}"` }
    seen.add(s.providerSlotId)
    const types = new Set<string>()
    for (const [j, p] of s.paxAvailability.entries()) {
      if (types.has(p.type)) return { ok: false, reason: `${i}.paxAvailability.${j}.type: duplicate "${p.type}"` }
      types.add(p.type)
      if (p.min > p.max) return { ok: false, reason: `${i}.paxAvailability.${j}: min ${p.min} is greater than max ${p.max}` }
    }
  }
  return { ok: true, slots }
}

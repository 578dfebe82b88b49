import { validateDay, type PartnerSlot, type PartnerSlotInput } from '../../server/partner/schema.ts'

/** A partner-shaped slot (as the partner writes it) with sensible defaults. */
export function rawSlot(date: string, startTime: string, over: Partial<PartnerSlotInput> = {}): PartnerSlotInput {
  return {
    startDate: date,
    startTime,
    endTime: startTime,
    providerSlotId: `P14_${date}T${startTime}`,
    remaining: 2000,
    currencyCode: 'SGD',
    variantId: 14,
    paxAvailability: [
      {
        type: 'ADULT_12~99',
        name: 'Adult',
        description: '12 years and above',
        isPrimary: true,
        min: 1,
        max: 1000,
        remaining: 1000,
        price: { discount: 0, finalPrice: 242.14, originalPrice: 242.14, currencyCode: 'SGD' },
      },
      {
        type: 'CHILD_3~11',
        name: 'Child',
        description: '3 to 11 years',
        min: 0,
        max: 1000,
        remaining: 1000,
        price: { discount: 0, finalPrice: 180.5, originalPrice: 180.5, currencyCode: 'SGD' },
      },
    ],
    ...over,
  }
}

/** Validates partner-shaped slots the way the sync engine does; throws if invalid. */
export function validSlots(date: string, raw: unknown[]): PartnerSlot[] {
  const v = validateDay(raw, date)
  if (!v.ok) throw new Error(`test data invalid: ${v.reason}`)
  return v.slots
}

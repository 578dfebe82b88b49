import { describe, expect, it } from 'vitest'
import { SLOTS_PER_CHUNK, validateDay, validateDayChunked } from '../../server/partner/schema.ts'
import { manySlotsDay } from '../../server/sandbox/faults.ts'
import { rawSlot } from '../helpers/partner-data.ts'

const D = '2026-12-01'
/** `n` realistic slots (two pax types each) on D, one a minute from 00:00. */
const day = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const m = i % 1_440
    const t = `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
    return rawSlot(D, t, { providerSlotId: `S${i}` })
  })

describe('validateDayChunked', () => {
  it('gives validateDay’s answer, slots and reasons alike', async () => {
    const good = day(450)
    expect(await validateDayChunked(good, D, { maxSlots: 2_000 })).toEqual(validateDay(good, D))
    const bad = day(450)
    bad[321]!.remaining = -1
    const dup = day(300)
    dup[250]!.providerSlotId = 'S3'
    for (const body of [bad, dup, { data: [] }, null, [rawSlot('2026-12-02', '04:00')], []]) {
      expect(await validateDayChunked(body, D, { maxSlots: 2_000 })).toEqual(validateDay(body, D))
    }
    // The index in a reason is the day's, not the chunk's.
    expect(await validateDayChunked(bad, D, { maxSlots: 2_000 })).toEqual({ ok: false, reason: '321.remaining: must not be negative' })
  })

  it('rejects a day over maxSlots before validating any slot', async () => {
    let yields = 0
    const body = manySlotsDay(D, 20_000)
    // A slot that would fail validation, so reaching it would change the reason.
    ;(body[0] as { remaining: number }).remaining = -1
    const v = await validateDayChunked(body, D, { maxSlots: 2_000, yieldNow: async () => void yields++ })
    expect(v).toEqual({ ok: false, reason: 'body: 20000 slots, over the limit of 2000' })
    expect(yields).toBe(0)
    expect((await validateDayChunked(manySlotsDay(D, 2_000), D, { maxSlots: 2_000 })).ok).toBe(true)
  })

  it('yields to the event loop between chunks: other work runs while a large day is validated', async () => {
    const n = 2_000
    const chunks = Math.ceil(n / SLOTS_PER_CHUNK)
    // A setImmediate callback queued before validation runs before it ends,
    // and a chain of them advances once per chunk.
    let ticks = 0
    let stop = false
    const tick = () => {
      ticks++
      if (!stop) setImmediate(tick)
    }
    setImmediate(tick)
    const v = await validateDayChunked(day(n), D, { maxSlots: n })
    stop = true
    expect(v.ok && v.slots.length).toBe(n)
    expect(ticks).toBeGreaterThanOrEqual(chunks - 1)
    // And with a counting yield: exactly one yield between consecutive chunks.
    let yields = 0
    await validateDayChunked(day(n), D, { maxSlots: n, yieldNow: async () => void yields++ })
    expect(yields).toBe(chunks - 1)
  })
})

import { describe, expect, it } from 'vitest'
import { countSlotChanges, isSoldOut, parseEventId, parseNotifyPayload, sseMessage, wants, type ChangeEvent } from '../../server/changes/event.ts'

const event: ChangeEvent = {
  id: 42,
  productId: 14,
  date: '2026-12-01',
  fetchedAt: '2026-11-30T00:01:00.000Z',
  slotsAdded: 1,
  slotsRemoved: 0,
  slotsChanged: 2,
  soldOut: false,
}

describe('countSlotChanges', () => {
  it('counts inserted as added and deleted as removed', () => {
    expect(countSlotChanges({ insertedSlotIds: ['1', '2'], updatedSlotIds: [], deletedSlots: 3, paxTouchedSlotIds: [] })).toEqual({
      slotsAdded: 2,
      slotsRemoved: 3,
      slotsChanged: 0,
    })
  })
  it("a new slot's pax rows do not make it changed as well", () => {
    expect(countSlotChanges({ insertedSlotIds: ['1'], updatedSlotIds: [], deletedSlots: 0, paxTouchedSlotIds: ['1', '1'] })).toEqual({
      slotsAdded: 1,
      slotsRemoved: 0,
      slotsChanged: 0,
    })
  })
  it('a kept slot with its own columns and several pax rows changed counts once', () => {
    expect(countSlotChanges({ insertedSlotIds: [], updatedSlotIds: ['5'], deletedSlots: 0, paxTouchedSlotIds: ['5', '5', '6'] })).toEqual({
      slotsAdded: 0,
      slotsRemoved: 0,
      slotsChanged: 2,
    })
  })
  it('nothing touched: all zero', () => {
    expect(countSlotChanges({ insertedSlotIds: [], updatedSlotIds: [], deletedSlots: 0, paxTouchedSlotIds: [] })).toEqual({
      slotsAdded: 0,
      slotsRemoved: 0,
      slotsChanged: 0,
    })
  })
})

describe('isSoldOut', () => {
  it.each([
    [5, 0, true],
    [1, 0, true],
    [0, 0, false],
    [null, 0, false],
    [5, 1, false],
    [0, 3, false],
  ] as const)('%s seats before, %s after → %s', (before, after, expected) => {
    expect(isSoldOut(before, after)).toBe(expected)
  })
})

describe('parseEventId', () => {
  it.each([
    ['0', 0],
    ['17', 17],
    [' 17 ', 17],
    ['000123', 123],
    [17, 17],
  ] as const)('%j → %j', (input, expected) => expect(parseEventId(input)).toBe(expected))
  it.each(['', 'abc', '-1', '1.5', '1e3', '12345678901234567890', '0x10', '17,18'])('rejects %j', (input) => expect(parseEventId(input)).toBeUndefined())
  it('rejects non-strings and unsafe numbers', () => {
    for (const v of [undefined, null, {}, -1, 1.5, Number.MAX_SAFE_INTEGER + 2, NaN]) expect(parseEventId(v)).toBeUndefined()
  })
})

describe('wants', () => {
  it('no filter or an empty one wants everything', () => {
    expect(wants(undefined, event)).toBe(true)
    expect(wants(new Set(), event)).toBe(true)
  })
  it('a filter wants only its products', () => {
    expect(wants(new Set([14, 15]), event)).toBe(true)
    expect(wants(new Set([15]), event)).toBe(false)
  })
})

describe('parseNotifyPayload', () => {
  it('round-trips an event', () => expect(parseNotifyPayload(JSON.stringify(event))).toEqual(event))
  it.each([
    undefined,
    '',
    'not json',
    'null',
    '[]',
    '{}',
    JSON.stringify({ ...event, id: 'x' }),
    JSON.stringify({ ...event, soldOut: 'yes' }),
    JSON.stringify({ ...event, slotsAdded: -1 }),
  ])('ignores a foreign payload %j', (payload) => expect(parseNotifyPayload(payload)).toBeUndefined())
})

describe('sseMessage', () => {
  it('carries the id, an event name and the JSON on one data line, ending with a blank line', () => {
    const text = sseMessage(event)
    expect(text).toBe(`id: 42\nevent: change\ndata: ${JSON.stringify(event)}\n\n`)
    expect(text.split('\n').filter((l) => l.startsWith('data:'))).toHaveLength(1)
  })
})

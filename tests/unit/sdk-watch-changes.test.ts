import { TRPCClientError } from '@trpc/client'
import { describe, expect, it } from 'vitest'
import { watchChanges, type SubscribeChanges } from '../../sdk/src/changes.ts'
import type { ChangeEvent } from '../../sdk/src/index.ts'

// watchChanges' own rules, over a scripted subscribe (the transport is
// covered against real servers in tests/integration/sdk-changes.test.ts).
const ev = (id: number): ChangeEvent => ({
  id,
  productId: 14,
  date: '2026-12-01',
  fetchedAt: '2026-11-30T00:00:00.000Z',
  slotsAdded: 0,
  slotsRemoved: 0,
  slotsChanged: 1,
  soldOut: false,
})
type Handlers = Parameters<SubscribeChanges>[1]

function scripted() {
  const calls: { input: unknown; h: Handlers; unsubscribed: boolean }[] = []
  const subscribe: SubscribeChanges = (input, h) => {
    const call = { input, h, unsubscribed: false }
    calls.push(call)
    return {
      unsubscribe: () => {
        call.unsubscribed = true
      },
    }
  }
  return { calls, subscribe }
}
const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms))
const fast = { minDelayMs: 1, maxDelayMs: 2 }

describe('watchChanges', () => {
  it('delivers each id once, in order, skipping repeats and older ids', () => {
    const { calls, subscribe } = scripted()
    const got: number[] = []
    const w = watchChanges(subscribe, { onEvent: (e) => got.push(e.id) })
    for (const id of [1, 2, 2, 1, 3]) calls[0]!.h.onData({ id: String(id), data: ev(id) })
    expect(got).toEqual([1, 2, 3])
    expect(w.lastEventId).toBe(3)
    w.close()
  })

  it('after the stream ends, subscribes again with the last id it delivered and its filter', async () => {
    const { calls, subscribe } = scripted()
    const w = watchChanges(subscribe, { productIds: [14], lastEventId: 5, onEvent: () => {}, reconnect: fast })
    expect(calls[0]!.input).toEqual({ productIds: [14], lastEventId: 5 })
    calls[0]!.h.onData({ id: '7', data: ev(7) })
    calls[0]!.h.onComplete()
    await tick()
    expect(calls).toHaveLength(2)
    expect(calls[0]!.unsubscribed).toBe(true)
    expect(calls[1]!.input).toEqual({ productIds: [14], lastEventId: 7 })
    w.close()
  })

  it('a retryable failure is reported and followed by a reconnect; a bad request ends the watch', async () => {
    const { calls, subscribe } = scripted()
    const codes: string[] = []
    watchChanges(subscribe, { onEvent: () => {}, onError: (e) => codes.push(e.code), reconnect: fast })
    calls[0]!.h.onError(new TypeError('fetch failed'))
    await tick()
    expect(calls).toHaveLength(2)
    // What httpSubscriptionLink hands on for the server's 400 (its serialized error).
    calls[1]!.h.onError(
      TRPCClientError.from({ error: { code: -32600, message: 'productIds.0: bad', data: { appCode: 'BAD_REQUEST', httpStatus: 400, field: 'productIds.0' } } }),
    )
    await tick()
    expect(codes).toEqual(['NETWORK_ERROR', 'BAD_REQUEST'])
    expect(calls).toHaveLength(2)
    expect(calls[1]!.unsubscribed).toBe(true)
  })

  it('close() stops everything: no callbacks, no reconnect', async () => {
    const { calls, subscribe } = scripted()
    const got: number[] = []
    const w = watchChanges(subscribe, { onEvent: (e) => got.push(e.id), reconnect: fast })
    w.close()
    calls[0]!.h.onData({ id: '1', data: ev(1) })
    calls[0]!.h.onComplete()
    await tick()
    expect(got).toEqual([])
    expect(calls).toHaveLength(1)
    expect(calls[0]!.unsubscribed).toBe(true)
  })

  it('backs off, doubling up to the maximum (timers fire in due order, so the checks do not race)', async () => {
    const { calls, subscribe } = scripted()
    const w = watchChanges(subscribe, { onEvent: () => {}, reconnect: { minDelayMs: 40, maxDelayMs: 80 } })
    calls[0]!.h.onComplete()
    await tick(45)
    expect(calls).toHaveLength(2)
    calls[1]!.h.onComplete()
    // The second wait is 40–80 ms (jittered half-to-full of 80): not yet at 15 ms.
    await tick(15)
    expect(calls).toHaveLength(2)
    await tick(80)
    expect(calls).toHaveLength(3)
    w.close()
  })
})

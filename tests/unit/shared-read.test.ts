import { describe, expect, it } from 'vitest'
import { sharedRead } from '../../server/api/shared-read.ts'

function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('sharedRead', () => {
  it('N concurrent callers cost one load and all get its value', async () => {
    let loads = 0
    const d = deferred<number>()
    const read = sharedRead(
      () => {
        loads++
        return d.promise
      },
      { ttlMs: 0 },
    )
    const all = Promise.all(Array.from({ length: 50 }, () => read.get()))
    d.resolve(7)
    expect(await all).toEqual(Array(50).fill(7))
    expect(loads).toBe(1)
  })

  it('reuses a value for ttlMs after its load began, then loads anew', async () => {
    let t = 0
    let loads = 0
    const read = sharedRead(async () => ++loads, { ttlMs: 1000, now: () => t })
    expect(await read.get()).toBe(1)
    t = 999
    expect(await read.get()).toBe(1)
    t = 1000
    expect(await read.get()).toBe(2)
  })

  it('with ttlMs 0 a caller after the load settled loads again', async () => {
    let loads = 0
    const read = sharedRead(async () => ++loads, { ttlMs: 0, now: () => 0 })
    expect(await read.get()).toBe(1)
    expect(await read.get()).toBe(2)
  })

  it('a failure reaches the callers that joined it and is not kept', async () => {
    let loads = 0
    const d = deferred<number>()
    const read = sharedRead(
      () => {
        loads++
        return loads === 1 ? d.promise : Promise.resolve(42)
      },
      { ttlMs: 60_000, now: () => 0 },
    )
    const joined = [read.get(), read.get()]
    d.reject(new Error('database down'))
    for (const p of joined) await expect(p).rejects.toThrow('database down')
    expect(await read.get()).toBe(42)
    expect(loads).toBe(2)
  })

  it('invalidate makes the next caller load anew, even while a load is in flight', async () => {
    let loads = 0
    const first = deferred<number>()
    const read = sharedRead(
      () => {
        loads++
        return loads === 1 ? first.promise : Promise.resolve(2)
      },
      { ttlMs: 60_000, now: () => 0 },
    )
    const before = read.get()
    read.invalidate()
    expect(await read.get()).toBe(2)
    first.resolve(1)
    expect(await before).toBe(1)
    // The stale load settling later does not replace the newer value.
    expect(await read.get()).toBe(2)
    expect(loads).toBe(2)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { stringify } from '../../server/api/json.ts'

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x)
    Object.freeze(v)
  }
  return v
}

describe('stringify', () => {
  it('gives exactly what JSON.stringify gives, frozen parts or not', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.boolean()), (obj, freezeMask) => {
        Object.values(obj).forEach((v, i) => {
          if (freezeMask[i]) deepFreeze(v)
        })
        expect(stringify(obj)).toBe(JSON.stringify(obj))
        expect(stringify(obj)).toBe(JSON.stringify(obj)) // again, from the memo
      }),
    )
  })
  it.each([null, 1, 'x', true, [1, 2], deepFreeze([{ a: 1 }]), new Date(0)])('top-level %j', (v) => expect(stringify(v)).toBe(JSON.stringify(v)))
  it('leaves out what JSON.stringify leaves out', () => {
    expect(stringify({ a: undefined, b: () => 1, c: Symbol('x'), d: 1 })).toBe('{"d":1}')
    expect(stringify({})).toBe('{}')
    expect(stringify({ a: undefined, b: 2 })).toBe('{"b":2}')
  })
  it('reuses the text of a frozen value', () => {
    const slots = deepFreeze([{ startTime: '04:00' }])
    const first = stringify({ slots, n: 1 })
    expect(stringify({ slots, n: 2 })).toBe(first.replace('"n":1', '"n":2'))
  })
})

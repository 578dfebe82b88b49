import { jsonTextOf } from '../json-text.ts'

/**
 * JSON.stringify for REST responses, except that a frozen object or array
 * (the service's immutable views: a day's slots, a product's dates) is sent
 * as its remembered text (json-text.ts): the text it was read as from the
 * database, or serialized once. Serializing a day's slots was the largest
 * cost of a cached /slots read. The output is byte for byte what
 * JSON.stringify gives (tests/unit/json.test.ts).
 */
function valueText(v: unknown): string | undefined {
  return v !== null && typeof v === 'object' && Object.isFrozen(v) ? jsonTextOf(v) : JSON.stringify(v)
}

export function stringify(data: unknown): string {
  if (data === null || typeof data !== 'object' || Array.isArray(data) || Object.getPrototypeOf(data) !== Object.prototype) return valueText(data) as string
  let out = '{'
  for (const [key, value] of Object.entries(data)) {
    // What JSON.stringify leaves out of an object.
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${valueText(value)}`
  }
  return `${out}}`
}

/**
 * JSON.stringify for REST responses, except that a frozen object or array
 * (the service's cached, immutable views: a day's slots, a product's dates)
 * is serialized once and its text reused. Serializing a day's slots was the
 * largest cost of a cached /slots read. The output is byte for byte what
 * JSON.stringify gives (tests/unit/json.test.ts).
 */
const texts = new WeakMap<object, string>()

function valueText(v: unknown): string | undefined {
  if (v !== null && typeof v === 'object' && Object.isFrozen(v)) {
    let text = texts.get(v)
    if (text === undefined) {
      text = JSON.stringify(v)
      texts.set(v, text)
    }
    return text
  }
  return JSON.stringify(v)
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

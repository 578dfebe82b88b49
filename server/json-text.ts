/**
 * JSON text remembered for frozen values, so a value serialized once, or
 * read from the database as JSON text in the first place (a stored day's
 * slots, a product's open days), is sent as that text and never serialized
 * again (api/json.ts). Only frozen values: their text cannot go stale.
 */
const texts = new WeakMap<object, string>()

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

/** The remembered text of a frozen value, serializing it the first time. */
export function jsonTextOf(value: object): string {
  let text = texts.get(value)
  if (text === undefined) {
    text = JSON.stringify(value)
    texts.set(value, text)
  }
  return text
}

/**
 * Parses JSON text into a frozen value that serializes back to exactly that
 * text. The text must be what JSON.stringify gives for its value (no
 * whitespace, shortest numbers): the writers that store it guarantee it.
 */
export function parseFrozen<T extends object>(text: string): T {
  const value = deepFreeze(JSON.parse(text) as T)
  texts.set(value, text)
  return value
}

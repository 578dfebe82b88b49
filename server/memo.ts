/**
 * Remembers a pure function's answers by key, at most `max` of them (past
 * that it starts over: cheaper than an LRU, and the keys a service asks for
 * fit well within the bound). For rules that cannot change while the process
 * runs, such as a time zone's offsets.
 */
export interface BoundedMemo<T> {
  get(key: string, compute: () => T): T
  readonly size: number
}

export function boundedMemo<T>(max: number): BoundedMemo<T> {
  const answers = new Map<string, T>()
  return {
    get(key, compute) {
      let v = answers.get(key)
      if (v === undefined) {
        if (answers.size >= max) answers.clear()
        v = compute()
        answers.set(key, v)
      }
      return v
    },
    get size() {
      return answers.size
    },
  }
}

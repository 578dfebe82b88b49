import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Bearer keys of the OCTO face. Keys are held only as SHA-256 digests and
 * compared in constant time, so neither a timing difference nor a heap dump
 * or log line of this object gives a key away.
 */
export interface KeyCheck {
  /** True when the Authorization header is `Bearer <one of the keys>`. */
  accepts(authorization: string | undefined): boolean
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()

export function createKeyCheck(keys: readonly string[]): KeyCheck {
  if (keys.length === 0) throw new Error('the OCTO face needs at least one key')
  const digests = keys.map(digest)
  return {
    accepts(authorization) {
      const m = authorization === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)
      if (!m) return false
      const d = digest(m[1]!)
      // Every key is compared, so how long this takes does not say which one nearly matched.
      let ok = false
      for (const k of digests) ok = timingSafeEqual(k, d) || ok
      return ok
    },
  }
}

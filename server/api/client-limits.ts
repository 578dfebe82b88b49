import net from 'node:net'

/**
 * Per-client allowances at the API's edge, as plain counters (no Fastify):
 * requests a minute weighted by the work they carry, open streams, and
 * failed authentications. edge.ts applies them to requests.
 */

/**
 * The key a client is counted under: its address, with an IPv6 address cut
 * to its /64 (one subscriber's network, what a client can rotate through)
 * and an IPv4-mapped IPv6 address read as the IPv4 one.
 */
export function clientKey(ip: string): string {
  if (!net.isIPv6(ip)) return ip.toLowerCase()
  const address = ip.split('%')[0]!.toLowerCase()
  // A dotted IPv4 tail is the last two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address)
  const hex = dotted ? `${dotted[1]}0:0` : address
  const [head = '', tail] = hex.split('::')
  const split = (s: string | undefined) => (s ? s.split(':') : [])
  const h = split(head)
  const t = split(tail)
  const groups = (tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]).map((g) => Number.parseInt(g, 16))
  if (dotted && groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return dotted[2]!
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`
}

export interface Take {
  ok: boolean
  limit: number
  /** What is left in the current window after this take (unchanged when refused). */
  remaining: number
  /** Until the current window ends. */
  resetInMs: number
}

/** Fixed one-window-per-key counters: each key's window starts at its first take. */
export interface WindowCounter {
  /** Counts `n` against `key` when all `n` fit in what is left; a refused take counts nothing. */
  take(key: string, n: number): Take
  /** Gives back `n` that turned out not to count (floored at 0). */
  refund(key: string, n: number): void
  /** Left in the key's current window, and until when. */
  peek(key: string): Take
}

export function createWindowCounter(o: { limit: number; windowMs: number; now?: () => number; maxKeys?: number }): WindowCounter {
  const now = o.now ?? Date.now
  const maxKeys = o.maxKeys ?? 100_000
  const windows = new Map<string, { start: number; used: number }>()
  let swept = now()

  const current = (key: string, t: number) => {
    const w = windows.get(key)
    return w && t - w.start < o.windowMs ? w : undefined
  }
  // Expired windows go once a window has passed, and the oldest go when
  // clients are too many to keep: memory stays bounded whoever calls.
  const sweep = (t: number) => {
    if (t - swept < o.windowMs && windows.size < maxKeys) return
    swept = t
    for (const [k, w] of windows) if (t - w.start >= o.windowMs) windows.delete(k)
    for (const k of windows.keys()) {
      if (windows.size < maxKeys) break
      windows.delete(k)
    }
  }
  const view = (used: number, start: number, t: number, ok: boolean): Take => ({
    ok,
    limit: o.limit,
    remaining: Math.max(0, o.limit - used),
    resetInMs: Math.max(0, start + o.windowMs - t),
  })

  return {
    take(key, n) {
      const t = now()
      let w = current(key, t)
      if (!w) {
        sweep(t)
        windows.delete(key)
        w = { start: t, used: 0 }
        windows.set(key, w)
      }
      if (w.used + n > o.limit) return view(w.used, w.start, t, false)
      w.used += n
      return view(w.used, w.start, t, true)
    },
    refund(key, n) {
      const w = current(key, now())
      if (w) w.used = Math.max(0, w.used - n)
    },
    peek(key) {
      const t = now()
      const w = current(key, t)
      return w ? view(w.used, w.start, t, w.used < o.limit) : view(0, t, t, true)
    },
  }
}

/** Open long-lived streams (the change feed), per instance and per client. */
export interface StreamSlots {
  /** A slot for `key`, to release when its stream closes (release is idempotent); or why there is none. */
  acquire(key: string): { ok: true; release(): void } | { ok: false; refusedBy: 'client' | 'instance' }
  /** Streams open on this instance now (the slotsync_open_streams gauge). */
  readonly open: number
}

export function createStreamSlots(o: { max: number; maxPerClient: number }): StreamSlots {
  const byClient = new Map<string, number>()
  let open = 0
  return {
    acquire(key) {
      const mine = byClient.get(key) ?? 0
      if (mine >= o.maxPerClient) return { ok: false, refusedBy: 'client' }
      if (open >= o.max) return { ok: false, refusedBy: 'instance' }
      byClient.set(key, mine + 1)
      open++
      let held = true
      return {
        ok: true,
        release() {
          if (!held) return
          held = false
          open--
          const left = (byClient.get(key) ?? 1) - 1
          if (left > 0) byClient.set(key, left)
          else byClient.delete(key)
        },
      }
    },
    get open() {
      return open
    },
  }
}

/** `missing`: no credential presented (an ordinary 401, not a guess); `blocked`: over the failure allowance, not even compared. */
export type AuthOutcome = 'ok' | 'missing' | 'denied' | 'blocked'

/**
 * Failed authentications per client, apart from the read allowance and much
 * lower: guessing admin tokens or OCTO keys stops after a few a minute,
 * while the client's ordinary reads go on.
 */
export interface AuthGuard {
  /**
   * Checks a presented credential with `valid` unless the client is over its
   * allowance; a wrong one counts as a failure. `valid` is the caller's
   * constant-time comparison.
   */
  verify(key: string, credential: string | undefined, valid: (credential: string) => boolean): AuthOutcome
  /** Seconds until a blocked client may try again. */
  retryAfterS(key: string): number
}

export function createAuthGuard(o: { failuresPerMinute: number; now?: () => number }): AuthGuard {
  const failures = createWindowCounter({ limit: o.failuresPerMinute, windowMs: 60_000, ...(o.now ? { now: o.now } : {}) })
  return {
    verify(key, credential, valid) {
      if (credential === undefined) return 'missing'
      if (!failures.peek(key).ok) return 'blocked'
      if (valid(credential)) return 'ok'
      failures.take(key, 1)
      return 'denied'
    },
    retryAfterS: (key) => Math.max(1, Math.ceil(failures.peek(key).resetInMs / 1000)),
  }
}

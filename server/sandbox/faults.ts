import type http from 'node:http'
import { z } from 'zod'
import type { PartnerSlotInput } from '../partner/schema.ts'
import { seededRandom } from './rng.ts'

/**
 * The partner's misbehaviour the sandbox can inject (partner-api.md, "Faults
 * to expect"). Rates are probabilities per accepted request. The kinds other
 * than `slow` exclude each other (their rates must sum to at most 1); `slow`
 * is drawn on its own and delays whatever answer follows. Delays are real
 * milliseconds even under an accelerated clock: they test the client's real
 * timeouts, which a simulated clock cannot.
 */
const rate = z.number().min(0).max(1)
const ms = z.number().int().min(0).max(600_000)

export const faultConfigSchema = z
  .object({
    /** 5xx (500, 502, 503 or 504) with a JSON error body. */
    errorRate: rate,
    /** Answer normally but only after `slowMs`. */
    slowRate: rate,
    slowMs: ms,
    /** Hold the request without answering for `hangMs`, then close the connection. */
    timeoutRate: rate,
    hangMs: ms,
    /** Destroy the socket without a response. */
    dropRate: rate,
    /** 200 with a body that is not JSON. */
    malformedRate: rate,
    /** 200 with JSON that breaks the contract: missing fields, wrong types, negative numbers. */
    wrongShapeRate: rate,
    /** 200 with `[]` whatever the day holds (indistinguishable from a sold-out day, by design). */
    emptyRate: rate,
    /** 429 with an empty body and no Retry-After. */
    rateLimitNoBodyRate: rate,
    /** 429 whose body's `rateLimitState.reset` is `rateLimitReset` and whose `Retry-After` is `retryAfter`, each when not null (absurd values welcome). */
    rateLimitRate: rate,
    rateLimitReset: z.number().nullable(),
    retryAfter: z.string().max(200).nullable(),
    /** 200 with a `hugeBodyBytes`-byte body (the day's JSON padded with spaces), streamed; `Content-Length` only with `hugeBodyDeclared`. */
    hugeBodyRate: rate,
    hugeBodyBytes: z.number().int().min(0).max(2_000_000_000),
    hugeBodyDeclared: z.boolean(),
    /** 200 with a valid day of `manySlots` small slots. */
    manySlotsRate: rate,
    manySlots: z.number().int().min(0).max(1_000_000),
  })
  .strict()

export type FaultConfig = z.infer<typeof faultConfigSchema>

export const NO_FAULTS: FaultConfig = {
  errorRate: 0,
  slowRate: 0,
  slowMs: 2_000,
  timeoutRate: 0,
  hangMs: 30_000,
  dropRate: 0,
  malformedRate: 0,
  wrongShapeRate: 0,
  emptyRate: 0,
  rateLimitNoBodyRate: 0,
  rateLimitRate: 0,
  rateLimitReset: null,
  retryAfter: null,
  hugeBodyRate: 0,
  hugeBodyBytes: 50_000_000,
  hugeBodyDeclared: false,
  manySlotsRate: 0,
  manySlots: 20_000,
}

/** Exclusive kinds in draw order; `slow` is separate. */
const EXCLUSIVE = [
  ['error', 'errorRate'],
  ['timeout', 'timeoutRate'],
  ['drop', 'dropRate'],
  ['malformed', 'malformedRate'],
  ['wrongShape', 'wrongShapeRate'],
  ['empty', 'emptyRate'],
  ['rateLimitNoBody', 'rateLimitNoBodyRate'],
  ['rateLimit', 'rateLimitRate'],
  ['hugeBody', 'hugeBodyRate'],
  ['manySlots', 'manySlotsRate'],
] as const satisfies readonly (readonly [string, keyof FaultConfig])[]

export type FaultKind = (typeof EXCLUSIVE)[number][0] | 'slow'
export const FAULT_KINDS: readonly FaultKind[] = [...EXCLUSIVE.map(([k]) => k), 'slow']

/** Unspecified fields fall back to NO_FAULTS (replace, not merge). Throws with a readable message. */
export function normalizeFaults(input: unknown): FaultConfig {
  const parsed = faultConfigSchema.partial().safeParse(input ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new RangeError(`faults.${issue.path.join('.') || '(body)'}: ${issue.message}`)
  }
  const cfg: FaultConfig = { ...NO_FAULTS }
  for (const [k, v] of Object.entries(parsed.data)) if (v !== undefined) Object.assign(cfg, { [k]: v })
  const sum = EXCLUSIVE.reduce((n, [, key]) => n + cfg[key], 0)
  if (sum > 1 + 1e-9) throw new RangeError(`fault rates other than slowRate must sum to at most 1, got ${sum}`)
  return cfg
}

export interface FaultDice {
  slow(cfg: FaultConfig): boolean
  pick(cfg: FaultConfig): Exclude<FaultKind, 'slow'> | undefined
  /** The stream the fault bodies draw from, so a seed reproduces them too. */
  random: () => number
}

export function createFaultDice(seed: number): FaultDice {
  const random = seededRandom(seed ^ 0x5eed)
  return {
    random,
    slow: (cfg) => cfg.slowRate > 0 && random() < cfg.slowRate,
    pick(cfg) {
      if (EXCLUSIVE.every(([, key]) => cfg[key] === 0)) return undefined
      let u = random()
      for (const [kind, key] of EXCLUSIVE) {
        if (u < cfg[key]) return kind
        u -= cfg[key]
      }
      return undefined
    },
  }
}

export function errorStatus(random: () => number): number {
  return [500, 502, 503, 504][Math.floor(random() * 4)]!
}

/** A 200 body that no JSON parser accepts. */
export function malformedBody(body: PartnerSlotInput[], random: () => number): string {
  const json = JSON.stringify(body)
  const variants = [
    () => json.slice(0, Math.max(1, Math.floor(json.length * (0.2 + 0.6 * random())))),
    () => '<html><body><h1>502 Bad Gateway</h1></body></html>',
    () => `${json}]`,
    () => `[{"startDate": NaN, "remaining": Infinity}]`,
  ]
  return variants[Math.floor(random() * variants.length)]!()
}

/** A JSON value that breaks the contract whatever the day held. */
export function wrongShapeBody(body: PartnerSlotInput[], random: () => number): unknown {
  const slots = structuredClone(body) as Record<string, unknown>[]
  const i = Math.floor(random() * slots.length)
  const slot = slots[i]
  const pax = (slot?.paxAvailability as Record<string, unknown>[] | undefined)?.[0]
  const variants: (() => unknown)[] = [() => ({ data: body }), () => ({ message: 'ok' })]
  // Each variant breaks one field of the copied answer, then returns it.
  const breaking = (change: () => void) => () => {
    change()
    return slots
  }
  if (slot) {
    variants.push(
      breaking(() => delete slot.remaining),
      breaking(() => {
        slot.remaining = String(slot.remaining)
      }),
      breaking(() => {
        slot.remaining = -1 - Math.floor(random() * 10)
      }),
      breaking(() => {
        slot.startTime = 930
      }),
      breaking(() => {
        slot.paxAvailability = null
      }),
    )
  }
  if (pax) {
    variants.push(
      breaking(() => {
        ;(pax.price as Record<string, unknown>).finalPrice = -12.5
      }),
      breaking(() => {
        pax.remaining = -3
      }),
      breaking(() => delete pax.price),
    )
  }
  return variants[Math.floor(random() * variants.length)]!()
}

/** The JSON body of the `rateLimit` fault, or undefined for none. */
export function rateLimitBody(cfg: FaultConfig): string | undefined {
  return cfg.rateLimitReset === null ? undefined : JSON.stringify({ message: 'Too many requests', rateLimitState: { remaining: 0, reset: cfg.rateLimitReset } })
}

/** `n` valid, small slots for `date` (the `manySlots` fault; tests build over-limit days with it). */
export function manySlotsDay(date: string, n: number): PartnerSlotInput[] {
  return Array.from({ length: n }, (_, i) => {
    const minute = i % 1_440
    const hhmm = `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`
    return { startDate: date, startTime: hhmm, endTime: hhmm, providerSlotId: `m${i}`, remaining: 1, currencyCode: 'SGD', variantId: 1, paxAvailability: [] }
  })
}

const PAD = Buffer.alloc(64 * 1024, 0x20)

/**
 * The `hugeBody` fault: `json` (an array) padded with spaces after its `[`
 * to `bytes`, still valid JSON for the same day, written a chunk at a time
 * at the pace the client reads, so the sandbox itself never holds the body
 * (it shares a process with the tests that measure the client's memory).
 */
export async function sendPaddedBody(res: http.ServerResponse, json: string, bytes: number, declared: boolean): Promise<void> {
  const tail = Buffer.from(json.slice(1))
  let padding = Math.max(0, bytes - 1 - tail.length)
  const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json; charset=utf-8' }
  if (declared) headers['content-length'] = 1 + padding + tail.length
  res.writeHead(200, headers)
  res.write('[')
  while (padding > 0 && !res.destroyed) {
    const chunk = padding >= PAD.length ? PAD : PAD.subarray(0, padding)
    padding -= chunk.length
    if (!res.write(chunk)) await drainedOrClosed(res)
  }
  if (!res.destroyed) res.end(tail)
}

function drainedOrClosed(res: http.ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

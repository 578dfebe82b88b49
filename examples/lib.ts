import { parseArgs, type ParseArgsConfig } from 'node:util'
// From source so the examples run from a clone with no build step; in an
// application this is `from '@slotsync/sdk'` (same exports).
import { createSlotsyncClient, SlotsyncError, type SlotsyncClient } from '../sdk/src/index.ts'

/** Exit codes the examples share (tests and scripts can tell them apart). */
export const EXIT = { ok: 0, apiError: 1, usage: 2, timeout: 3 } as const

const CONNECTION = {
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options']

/** argv → positionals and flags (each example's own flags plus --url, --token, --help). */
export function cli<O extends NonNullable<ParseArgsConfig['options']>>(usage: string, options: O) {
  const parsed = (() => {
    try {
      return parseArgs({ args: process.argv.slice(2), options: { ...CONNECTION, ...options }, allowPositionals: true, strict: true })
    } catch (err) {
      return fail(`${(err as Error).message}\n\n${usage}`)
    }
  })()
  // (Typed loosely here, in the generic; callers get every flag typed.)
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`)
    process.exit(EXIT.ok)
  }
  return { ...parsed, usage }
}

/**
 * The client for `--url` (else SLOTSYNC_URL, else the default local server)
 * with `--token` (else SLOTSYNC_ADMIN_TOKEN) when the example changes things.
 */
export function connect(values: { url?: string | boolean | undefined; token?: string | boolean | undefined }, opts: { admin?: boolean } = {}): SlotsyncClient {
  const url = str(values.url) ?? process.env.SLOTSYNC_URL ?? 'http://127.0.0.1:3000'
  const adminToken = str(values.token) ?? process.env.SLOTSYNC_ADMIN_TOKEN
  if (opts.admin && !adminToken) fail('this example changes sync: set SLOTSYNC_ADMIN_TOKEN (or --token) to the admin token the server printed at start')
  // Reads are retried on network errors and 429/5xx; writes never are (the SDK's rule).
  return createSlotsyncClient({ url, ...(adminToken ? { adminToken } : {}), retry: true })
}

/** A positive integer positional or flag, else exit with usage. */
export function productIdArg(value: string | undefined, usage: string): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1) fail(`a product id (a positive integer) is required\n\n${usage}`)
  return Number(value)
}

/** Runs an example: a SlotsyncError becomes one line on stderr and exit 1, not a stack trace. */
export function main(run: () => Promise<void>): void {
  run().then(
    () => process.exit(EXIT.ok),
    (err: unknown) => {
      if (!(err instanceof SlotsyncError)) throw err
      const field = err.field ? ` (field: ${err.field})` : ''
      process.stderr.write(`error ${err.code}${err.status ? ` ${err.status}` : ''}${field}: ${err.message}\n`)
      process.exit(EXIT.apiError)
    },
  )
}

export function fail(message: string, code: number = EXIT.usage): never {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}

export function money(p: { finalPrice: number; originalPrice: number; currencyCode: string } | null): string {
  if (!p) return 'no price'
  const was = p.originalPrice > p.finalPrice ? ` (was ${p.originalPrice.toFixed(2)})` : ''
  return `${p.currencyCode} ${p.finalPrice.toFixed(2)}${was}`
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
/** The weekday of a calendar day (no time zone involved: the date is already the product's local day). */
export function weekday(date: string): string {
  return WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()]!
}

const str = (v: string | boolean | undefined) => (typeof v === 'string' && v !== '' ? v : undefined)

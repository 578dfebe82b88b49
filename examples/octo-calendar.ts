/**
 * Reads a product through the OCTO face, as any OCTO reseller would: the
 * product and its units, the calendar of the next days with "from" prices,
 * and the slots of the first open day. Plain fetch: no SDK needed for OCTO.
 *
 *   OCTO_API_KEY=<one of OCTO_API_KEYS> node --import tsx examples/octo-calendar.ts <productId> [--days 14]
 */
import { parseArgs } from 'node:util'

const usage = 'usage: octo-calendar.ts <productId> [--days N] [--url URL] [--key KEY]   (key also from OCTO_API_KEY)'
const EXIT = { ok: 0, apiError: 1, usage: 2 } as const

function fail(message: string, code: number = EXIT.usage): never {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}

const args = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: { days: { type: 'string', default: '14' }, url: { type: 'string' }, key: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    })
  } catch (err) {
    return fail(`${(err as Error).message}\n\n${usage}`)
  }
})()
if (args.values.help) {
  process.stdout.write(`${usage}\n`)
  process.exit(EXIT.ok)
}
const productId = args.positionals[0]
if (!productId || !/^\d+$/.test(productId)) fail(`a product id (a positive integer) is required\n\n${usage}`)
const days = Number(args.values.days)
if (!Number.isInteger(days) || days < 1 || days > 366) fail(`--days must be a whole number from 1 to 366\n\n${usage}`)
const base = `${(args.values.url ?? process.env.SLOTSYNC_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '')}/octo`
const key = args.values.key ?? process.env.OCTO_API_KEY
if (!key) fail("set OCTO_API_KEY (or --key) to one of the keys in the server's OCTO_API_KEYS")

interface Pricing {
  retail: number
  original: number
  currency: string
  currencyPrecision: number
}
type UnitPricing = Pricing & { unitId: string }

/** One OCTO call with the pricing capability; an OCTO error body becomes one line on stderr and exit 1. */
async function octo<T>(path: string, body?: object): Promise<T> {
  const res = await fetch(base + path, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${key}`, 'octo-capabilities': 'octo/pricing', ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  }).catch((err: Error) => fail(`error: cannot reach ${base}: ${err.message}`, EXIT.apiError))
  const data = (await res.json().catch(() => ({}))) as T & { error?: string; errorMessage?: string }
  if (!res.ok) fail(`error ${data.error ?? 'HTTP'} ${res.status}: ${data.errorMessage ?? res.statusText}`, EXIT.apiError)
  return data
}

/** Minor units → "SGD 242.14" with integer arithmetic (JPY has no decimals). */
function money(p: Pricing): string {
  const scale = 10 ** p.currencyPrecision
  const amount = p.currencyPrecision ? `${Math.floor(p.retail / scale)}.${String(p.retail % scale).padStart(p.currencyPrecision, '0')}` : String(p.retail)
  return `${p.currency} ${amount}`
}

/** Today in the product's zone: the calendar is asked in product-local days. */
function todayIn(timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date())
}
const addDays = (d: string, n: number) => new Date(Date.parse(`${d}T12:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)

const product = await octo<{ id: string; timeZone: string; defaultCurrency?: string; options: { id: string; units: { id: string; type: string }[] }[] }>(
  `/products/${productId}`,
)
const option = product.options[0]!
console.log(
  `Product ${product.id} (${product.timeZone}), option ${option.id}, units: ${option.units.map((u) => `${u.id} [${u.type}]`).join(', ') || 'none yet'}`,
)

const from = todayIn(product.timeZone)
const to = addDays(from, days - 1)
const calendar = await octo<{ localDate: string; status: string; vacancies: number; unitPricingFrom?: UnitPricing[] }[]>('/availability/calendar', {
  productId: product.id,
  optionId: option.id,
  localDateStart: from,
  localDateEnd: to,
})
console.log(`\nCalendar ${from} to ${to}:`)
for (const d of calendar) {
  const cheapest = [...(d.unitPricingFrom ?? [])].sort((a, b) => a.retail - b.retail)[0]
  console.log(
    `  ${d.localDate}  ${d.status.padEnd(9)}  ${String(d.vacancies).padStart(5)} left${d.status === 'AVAILABLE' && cheapest ? `  from ${money(cheapest)} (${cheapest.unitId})` : ''}`,
  )
}

const open = calendar.find((d) => d.status === 'AVAILABLE')
if (!open) {
  console.log('\nNo open day in that range.')
  process.exit(EXIT.ok)
}
const slots = await octo<{ id: string; status: string; vacancies: number; utcCutoffAt: string; unitPricing?: UnitPricing[] }[]>('/availability', {
  productId: product.id,
  optionId: option.id,
  localDate: open.localDate,
})
console.log(`\nSlots on ${open.localDate}:`)
for (const s of slots)
  console.log(
    `  ${s.id}  ${s.status.padEnd(9)}  ${String(s.vacancies).padStart(5)} left  ${(s.unitPricing ?? []).map((u) => `${u.unitId} ${money(u)}`).join(', ')}`,
  )

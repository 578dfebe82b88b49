/**
 * The next open dates of a product and their lowest price.
 *
 *   node --import tsx examples/open-dates.ts <productId> [--limit 10]
 */
import { cli, connect, fail, main, money, productIdArg, weekday } from './lib.ts'

const args = cli('usage: open-dates.ts <productId> [--limit N] [--url URL]', { limit: { type: 'string', default: '10' } })

main(async () => {
  const productId = productIdArg(args.positionals[0], args.usage)
  const limit = Number(args.values.limit)
  if (!Number.isInteger(limit) || limit < 1) fail(`--limit must be a positive integer\n\n${args.usage}`)
  const client = connect(args.values)

  const { dates, pending } = await client.availability.dates.query({ productId })
  if (dates.length === 0) console.log(`No open dates for product ${productId} in the next 60 days.`)
  else console.log(`Next open dates for product ${productId} (${Math.min(limit, dates.length)} of ${dates.length}):`)
  for (const d of dates.slice(0, limit)) console.log(`  ${d.date}  ${weekday(d.date)}  from ${money(d.price)}`)
  // A day never fetched is absent from `dates` like a closed one: say so rather than let a short list look final.
  if (pending.length > 0) console.log(`Note: ${pending.length} of the 60 days are not fetched yet (first ${pending[0]}); the list may grow.`)
})

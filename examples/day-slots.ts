/**
 * A day's slots of a product, with each pax type's price and what is left.
 *
 *   node --import tsx examples/day-slots.ts <productId> <YYYY-MM-DD>
 */
import { cli, connect, fail, main, money, productIdArg, weekday } from './lib.ts'

const args = cli('usage: day-slots.ts <productId> <YYYY-MM-DD> [--url URL]', {})

main(async () => {
  const productId = productIdArg(args.positionals[0], args.usage)
  const date = args.positionals[1]
  if (!date) fail(`a date (YYYY-MM-DD) is required\n\n${args.usage}`)
  const client = connect(args.values)

  // The server checks the date (format, real day, within the 60-day horizon): its error names the field.
  const { slots, freshness } = await client.availability.slots.query({ productId, date })
  const fetched = freshness.fetchedAt ? `${freshness.state}, fetched ${freshness.fetchedAt}` : 'never fetched'
  console.log(`Product ${productId} on ${date} (${weekday(date)}), ${fetched}: ${slots.length} slot${slots.length === 1 ? '' : 's'}`)
  if (slots.length === 0) {
    // "never" means no answer from the partner yet, not a closed day.
    console.log(freshness.state === 'never' ? '  not fetched yet: ask again once sync has reached this day' : '  nothing on sale this day')
  }
  for (const s of slots) {
    console.log(`  ${s.startTime}-${s.endTime}  ${money(s.price)}  ${s.remaining} left`)
    for (const p of s.paxAvailability) {
      console.log(`      ${p.name} [${p.type}]  ${money(p.price)}  ${p.remaining} left (book ${p.min}-${p.max})`)
    }
  }
})

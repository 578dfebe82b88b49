/**
 * Prints days as they sell out (the change feed, no polling). Runs until
 * interrupted, or until --limit days were printed; resumes after an event id
 * with --from-id (the last id is printed on exit, so a restart misses nothing).
 *
 *   node --import tsx examples/watch-sold-out.ts [productId ...] [--from-id N] [--all] [--limit N]
 */
import type { ChangeEvent } from '../sdk/src/index.ts'
import { EXIT, cli, connect, fail, productIdArg } from './lib.ts'

const args = cli('usage: watch-sold-out.ts [productId ...] [--from-id EVENT_ID] [--all] [--limit N]', {
  'from-id': { type: 'string' },
  all: { type: 'boolean' },
  limit: { type: 'string' },
})

const productIds = args.positionals.map((p) => productIdArg(p, args.usage))
const fromId = args.values['from-id']
if (fromId !== undefined && !/^\d+$/.test(fromId)) fail(`--from-id must be an event id (a whole number)\n\n${args.usage}`)
const limit = args.values.limit === undefined ? Infinity : Number(args.values.limit)
if (!(limit > 0)) fail(`--limit must be a positive number\n\n${args.usage}`)

const client = connect(args.values)
let printed = 0
const watch = client.watchChanges({
  ...(productIds.length ? { productIds } : {}),
  ...(fromId !== undefined ? { lastEventId: Number(fromId) } : {}),
  onEvent: (e) => {
    if (!e.soldOut && !args.values.all) return
    console.log(line(e))
    if (++printed >= limit) finish(EXIT.ok)
  },
  onError: (err) => {
    // Retryable failures are followed by a reconnect with the last id; the rest end the watch.
    process.stderr.write(
      `error ${err.code}${err.status ? ` ${err.status}` : ''}${err.field ? ` (field: ${err.field})` : ''}: ${err.message}${err.retryable ? ' (reconnecting)' : ''}\n`,
    )
    if (!err.retryable) finish(EXIT.apiError)
  },
})
console.error(
  `watching ${productIds.length ? `product${productIds.length === 1 ? '' : 's'} ${productIds.join(', ')}` : 'every product'} for ${args.values.all ? 'changes' : 'sold-out days'} (Ctrl-C to stop)`,
)
process.on('SIGINT', () => finish(EXIT.ok))
process.on('SIGTERM', () => finish(EXIT.ok))

function line(e: ChangeEvent): string {
  const what = e.soldOut ? 'SOLD OUT' : `+${e.slotsAdded} -${e.slotsRemoved} ~${e.slotsChanged} slots`
  return `${e.date}  product ${e.productId}  ${what}  (event ${e.id}, fetched ${e.fetchedAt})`
}

function finish(code: number): void {
  watch.close()
  if (watch.lastEventId !== undefined) console.error(`last event id: ${watch.lastEventId} (resume with --from-id ${watch.lastEventId})`)
  process.exit(code)
}

/**
 * Manages the catalogue at run time: list the synced products, add one (its
 * days are fetched at once, today first) or remove one (syncing stops and
 * its stored inventory is deleted). Needs the admin token.
 *
 *   SLOTSYNC_ADMIN_TOKEN=... node --import tsx examples/products.ts list
 *   SLOTSYNC_ADMIN_TOKEN=... node --import tsx examples/products.ts add 1234 [--time-zone Asia/Tokyo]
 *   SLOTSYNC_ADMIN_TOKEN=... node --import tsx examples/products.ts remove 1234
 */
import type { Product } from '../sdk/src/index.ts'
import { cli, connect, fail, main, productIdArg } from './lib.ts'

const args = cli('usage: products.ts list | add <productId> [--time-zone ZONE] | remove <productId>', {
  'time-zone': { type: 'string' },
})

main(async () => {
  const [command, id] = args.positionals
  const client = connect(args.values, { admin: true })
  switch (command) {
    case 'list': {
      const { products } = await client.products.list.query()
      console.log(`${products.length} product${products.length === 1 ? '' : 's'}`)
      for (const p of products) console.log(`  ${describe(p)}`)
      return
    }
    case 'add': {
      const productId = productIdArg(id, args.usage)
      const zone = args.values['time-zone']
      const p = await client.products.upsert.mutate({ productId, ...(zone ? { timeZone: zone } : {}) })
      console.log(`added ${describe(p)}`)
      return
    }
    case 'remove': {
      const { removed } = await client.products.remove.mutate({ productId: productIdArg(id, args.usage) })
      console.log(`removed ${removed}: no longer synced, its stored days deleted`)
      return
    }
    default:
      fail(args.usage)
  }
})

function describe(p: Product): string {
  const state = p.paused ? 'paused' : p.lastSuccessAt ? `last fetched ${p.lastSuccessAt}` : 'not fetched yet'
  return `${p.id}  ${p.timeZone}  ${state}${p.lastError ? `  (last error: ${p.lastError})` : ''}`
}

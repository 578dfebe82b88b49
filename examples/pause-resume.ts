/**
 * Pauses sync (everything, or one product), shows the status, resumes.
 * Needs the admin token.
 *
 *   SLOTSYNC_ADMIN_TOKEN=... node --import tsx examples/pause-resume.ts [productId]
 */
import type { SyncState, SyncStatus } from '../sdk/src/index.ts'
import { cli, connect, main, productIdArg } from './lib.ts'

const args = cli('usage: pause-resume.ts [productId] [--url URL] [--token TOKEN]', {})

const state = (s: SyncState) => `paused: ${s.paused}, paused products: ${s.pausedProducts.join(', ') || '-'} (changed ${s.changedAt})`
const status = (s: SyncStatus) =>
  `status: paused=${s.paused}, running=${s.running}, queue=${s.queue}, in flight=${s.inFlight}, paused products: ${s.pausedProducts.join(', ') || '-'}`

main(async () => {
  const productId = args.positionals[0] === undefined ? undefined : productIdArg(args.positionals[0], args.usage)
  const target = productId === undefined ? {} : { productId }
  const what = productId === undefined ? 'everything' : `product ${productId}`
  const client = connect(args.values, { admin: true })

  console.log(`pausing sync for ${what}`)
  console.log(`  ${state(await client.sync.pause.mutate(target))}`)
  console.log(status(await client.sync.status.query()))
  console.log(`resuming sync for ${what}`)
  console.log(`  ${state(await client.sync.resume.mutate(target))}`)
  console.log(status(await client.sync.status.query()))
})

/**
 * Queues a refresh ahead of schedule (`sync.run`) and waits until every
 * queued (product, day) pair has been fetched, printing progress.
 * Needs the admin token.
 *
 *   SLOTSYNC_ADMIN_TOKEN=... node --import tsx examples/refresh.ts [productId] [--from D] [--to D] [--timeout 60]
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { RunInput, SyncStatus } from '../sdk/src/index.ts'
import { EXIT, cli, connect, fail, main, productIdArg } from './lib.ts'

const args = cli('usage: refresh.ts [productId] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--timeout SECONDS] [--interval SECONDS]', {
  from: { type: 'string' },
  to: { type: 'string' },
  timeout: { type: 'string', default: '60' },
  interval: { type: 'string', default: '0.5' },
})

main(async () => {
  const productId = args.positionals[0] === undefined ? undefined : productIdArg(args.positionals[0], args.usage)
  const timeoutS = Number(args.values.timeout)
  const intervalS = Number(args.values.interval)
  if (!(timeoutS > 0) || !(intervalS > 0)) fail(`--timeout and --interval must be positive numbers of seconds\n\n${args.usage}`)
  const input: RunInput = {
    ...(productId !== undefined ? { productId } : {}),
    ...(args.values.from ? { from: args.values.from } : {}),
    ...(args.values.to ? { to: args.values.to } : {}),
  }
  const client = connect(args.values, { admin: true })

  const t0 = Date.now()
  // Pairs queued by earlier runs and still waiting: the status counts them with ours.
  const before = (await client.sync.status.query()).queued
  const { queued } = await client.sync.run.mutate(input)
  const earlier = before > 0 ? ` (${before} from earlier runs still waiting)` : ''
  console.log(`queued ${queued} (product, day) pair${queued === 1 ? '' : 's'} for refresh${earlier}`)
  if (queued === 0) return

  // The status's `queued` counts pairs queued by any run and not yet written
  // (in-flight ones included), so 0 means ours are all fetched. Its `queue`
  // also counts pairs merely due by schedule, which on a busy server may
  // never reach 0. The status has no per-run count, so "fetched" is an
  // estimate when earlier runs are still draining.
  let last = ''
  for (;;) {
    const s = await client.sync.status.query()
    const elapsed = ((Date.now() - t0) / 1000).toFixed(1)
    if (s.queued === 0) {
      console.log(`done in ${elapsed}s: all ${queued} fetched (queue now ${s.queue})`)
      return
    }
    const fetched = Math.min(queued, Math.max(0, before + queued - s.queued))
    const line = `${fetched}/${queued} fetched, ${s.queued} waiting, ${s.inFlight} in flight${pausedNote(s)}`
    if (line !== last) console.log(`  ${elapsed}s  ${line}`)
    last = line
    if (Date.now() - t0 > timeoutS * 1000) {
      fail(`timed out after ${timeoutS}s with ${s.queued} still waiting (they stay queued)`, EXIT.timeout)
    }
    await sleep(intervalS * 1000)
  }
})

/** Paused pairs stay queued until resumed (ours or an earlier run's): say so, or the wait looks stuck. */
function pausedNote(s: SyncStatus): string {
  if (s.paused) return ' (sync is paused: waiting for resume)'
  const n = s.pausedProducts.length
  return n ? ` (product${n === 1 ? '' : 's'} ${s.pausedProducts.join(', ')} paused: ${n === 1 ? 'its' : 'their'} queued pairs wait for resume)` : ''
}

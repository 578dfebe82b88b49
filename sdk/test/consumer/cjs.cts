// Compiled to require('@slotsync/sdk'): the package's CJS entry and .d.cts.
import { createSlotsyncClient, SlotsyncError, type SyncStatus } from '@slotsync/sdk'

async function main() {
  const [url] = process.argv.slice(2)
  const client = createSlotsyncClient({ url: url! })
  const status: SyncStatus = await client.sync.status.query()
  const { dates } = await client.availability.dates.query({ productId: 14 })
  let error = 'none'
  try {
    await client.availability.slots.query({ productId: 14, date: '2026-02-30' })
  } catch (e) {
    if (e instanceof SlotsyncError) error = `${e.code} ${e.status} ${e.field}`
  }
  console.log(
    JSON.stringify({ format: 'cjs', loadedBy: typeof require === 'function' ? 'require' : 'import', paused: status.paused, dates: dates.length, error }),
  )
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})

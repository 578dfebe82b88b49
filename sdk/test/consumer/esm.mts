import { createSlotsyncClient, SlotsyncError, type OpenDate, type SlotsResult, type SlotsyncErrorCode } from '@slotsync/sdk'

const [url] = process.argv.slice(2)
const client = createSlotsyncClient({ url: url!, retry: true })

const { dates } = await client.availability.dates.query({ productId: 14 })
const first: OpenDate | undefined = dates[0]
const day: SlotsResult | undefined = first && (await client.availability.slots.query({ productId: 14, date: first.date }))
let error: SlotsyncErrorCode | 'none' = 'none'
try {
  await client.sync.pause.mutate() // no admin token
} catch (e) {
  if (e instanceof SlotsyncError) error = e.code
}
console.log(JSON.stringify({ format: 'esm', dates: dates.length, first, slots: day?.slots.map((s) => s.startTime), error }))

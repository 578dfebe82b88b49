import { createSlotsyncClient, type SlotsyncErrorCode } from '@slotsync/sdk'

const client = createSlotsyncClient({ url: 'http://127.0.0.1:3000' })

// expect-error TS2322: Type 'string' is not assignable to type 'number'.
await client.availability.slots.query({ productId: '14', date: '2026-12-01' })

const { dates } = await client.availability.dates.query({ productId: 14 })
// expect-error TS2339: Property 'amount' does not exist on type
console.log(dates[0]?.price.amount)

// expect-error TS2339: Property 'restart' does not exist on type
await client.sync.restart.mutate()

// expect-error TS2339: Property 'mutate' does not exist on type
await client.sync.status.mutate()

// expect-error TS2322: Type '"TEAPOT"' is not assignable to type 'SlotsyncErrorCode'.
const code: SlotsyncErrorCode = 'TEAPOT'
console.log(code)

// expect-error TS2551: Property 'soldOutAt' does not exist on type
client.watchChanges({ onEvent: (e) => console.log(e.soldOutAt) })

// expect-error TS2322: Type 'string' is not assignable to type 'number'.
client.watchChanges({ productIds: ['14'], onEvent: () => {} })

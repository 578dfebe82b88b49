import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { localDate, localMinuteOfDay, zonedTimeToInstant } from '../server/calendar/days.ts'
import { createCatalogue, type CatalogueShape } from '../server/sandbox/catalogue.ts'
import { bestOverTime, catalogueDays, leftAfterToday } from './best-plan.ts'
import { chainModel } from './chain-bound.ts'
import { solveLp } from './lp.ts'
import { prefilledAt } from './prefill.ts'

/**
 * `npm run bench:bound`: the per-day (chain) bound of bench/chain-bound.ts for
 * the window bench:sync measures, beside the fluid bound, from the same
 * catalogue, pre-fill and budget as the simulation.
 */
const { values: args } = parseArgs({
  options: {
    products: { type: 'string', default: '450' },
    limit: { type: 'string', default: '30' },
    catalogue: { type: 'string', default: 'dense' },
    day: { type: 'string', default: '2026-12-01' },
    'warmup-hours': { type: 'string', default: '24' },
    hours: { type: 'string', default: '12' },
    'slot-minutes': { type: 'string', default: '5' },
    /** A bench:sync report: hold days 1–7 at its hour-by-hour freshness instead of stage 1's. */
    'floor-from': { type: 'string' },
  },
})
const TZ = 'Asia/Singapore'
const MIN = 60_000
const shape = args.catalogue as CatalogueShape
const catalogue = createCatalogue({ seed: 1, products: Number(args.products) - 2, timeZone: TZ, shape })
const ids = catalogue.productIds()
const from = zonedTimeToInstant(args.day!, '00:00', TZ)
const to = from + Number(args.hours) * 3_600_000
const start = from - Number(args['warmup-hours']) * 3_600_000
const perMinute = (Number(args.limit) * 60_000) / 61_000
const days = catalogueDays(catalogue, ids)
const minutes = Math.ceil((to - start) / MIN)
const startDate = localDate(start, TZ)
const t0 = Date.now()
const model = chainModel(days, {
  timeZone: TZ,
  start,
  from,
  to,
  perMinute,
  slotMinutes: Number(args['slot-minutes']),
  prefilledAt: (id, date) => prefilledAt(id, date, start, startDate),
  leftAfterToday: leftAfterToday(days, start, minutes, perMinute),
})
console.log(`model: ${model.columns} columns, ${model.stage1.length} bytes, built in ${Date.now() - t0} ms`)
const s1 = await solveLp(model.stage1)
console.log(`stage 1 solved in ${s1.ms} ms`)
const floor = args['floor-from'] ? measuredFloor(args['floor-from']) : model.weekByRead(s1.columns)
const s2 = await solveLp(model.stage2(floor, args['floor-from'] ? 60 / Number(args['slot-minutes']) : 1))
console.log(`stage 2 solved in ${s2.ms} ms`)
const fluid = bestOverTime(catalogue, ids, { from, to, sampleEveryMs: 5 * MIN, perMinute })
const pct = (x: number) => `${(100 * x).toFixed(1)} %`
console.log(`${shape} ${args.day}, warm-up ${args['warmup-hours']} h, slots ${args['slot-minutes']} min`)
console.log(
  `days 1–7 within 4 h: chain ${pct(model.weekMeasured(s1.columns) / model.weekReadsMeasured)} (stage 2: ${pct(model.weekMeasured(s2.columns) / model.weekReadsMeasured)}), fluid ${pct(fluid.week)}`,
)
console.log(`days 8–30 within 24 h: chain ${pct(model.monthFresh(s2.columns) / model.monthReads)}, fluid ³ ${pct(fluid.monthAfterWeek)}`)
const hourly = model.hourly(s2.columns)
hourly.forEach((h, i) => {
  const at = start + i * 3_600_000
  console.log(
    `${localDate(at, TZ)} ${String(Math.floor(localMinuteOfDay(at, TZ) / 60)).padStart(2, '0')}:00  week ${h.week.toFixed(0).padStart(5)}  month ${h.month.toFixed(0).padStart(5)}  left ${h.cap.toFixed(0).padStart(5)}  days 1–7 fresh ${pct(h.weekFresh)}`,
  )
})

/** Days 1–7 fresh at each read as the simulation measured them, hour by hour (its `hourly`, warm-up first). */
function measuredFloor(file: string): Float64Array {
  const report = JSON.parse(readFileSync(file, 'utf8')) as { catalogues: { results: { hourly: { weekFresh: number | null }[] }[] }[] }
  const hourly = report.catalogues[0]!.results[0]!.hourly
  const perHour = 60 / Number(args['slot-minutes'])
  return model.weekReads.map((n, j) => n * (hourly[Math.floor(j / perHour)]?.weekFresh ?? 0))
}

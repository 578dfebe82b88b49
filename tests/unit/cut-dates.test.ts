import { describe, expect, it } from 'vitest'
import { cutDates } from '../../server/availability/queries.ts'

const entry = (date: string, price = 10.5) => ({ date, price: { finalPrice: price, currencyCode: 'SGD', originalPrice: price } })
const text = (dates: string[]) => JSON.stringify(dates.map((d, i) => entry(d, i + 0.1)))
const days = ['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-15', '2027-01-28', '2027-01-29', '2027-01-30']

describe('cutDates', () => {
  it('is the JSON text of exactly the entries within the window, for every window', () => {
    const all = text(days)
    const parsed = JSON.parse(all) as { date: string }[]
    for (const from of ['2026-11-28', ...days, '2027-01-31'])
      for (const to of ['2026-11-28', ...days, '2027-01-31']) {
        const cut = cutDates(all, from, to)
        expect(cut).toBe(JSON.stringify(parsed.filter((e) => e.date >= from && e.date <= to)))
      }
  })
  it('an empty answer stays empty', () => expect(cutDates('[]', '2026-12-01', '2027-01-29')).toBe('[]'))
})

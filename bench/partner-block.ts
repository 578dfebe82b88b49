/**
 * How long one partner answer blocks the event loop in the client (issue 25):
 * a realistic 2 000-slot day (the PARTNER_MAX_SLOTS default, validated in
 * chunks) and a 20 000-slot day (rejected by count before validation),
 * served over HTTP from a worker thread (its own event loop: the sandbox in
 * this process would block the loop measured with its own serializing). The
 * longest gap between 1 ms timer ticks while each fetch runs bounds the
 * longest block from above; other processes taking the CPU add to it at
 * random, so the smallest of the rounds' longest gaps (a block that recurs
 * each round is in every one) and the median are printed beside the largest.
 *
 *   node --import tsx bench/partner-block.ts
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { createPartnerClient } from '../server/partner/client.ts'
import type { PartnerSlotInput } from '../server/partner/schema.ts'
import { manySlotsDay } from '../server/sandbox/faults.ts'

const DATE = '2026-12-10'
const ROUNDS = 20

/** `n` slots as the partner writes them: two pax types each, descriptions included. */
function realisticDay(n: number): PartnerSlotInput[] {
  return manySlotsDay(DATE, n).map((s, i) => ({
    ...s,
    remaining: 40,
    paxAvailability: ['ADULT_12~99', 'CHILD_3~11'].map((type, j) => ({
      type,
      name: j ? 'Child' : 'Adult',
      description: j ? '3 to 11 years' : '12 years and above',
      isPrimary: !j,
      min: j ? 0 : 1,
      max: 20,
      remaining: 20 + (i % 7),
      price: { discount: 0, finalPrice: j ? 180.5 : 242.14, originalPrice: j ? 180.5 : 242.14, currencyCode: 'SGD' },
    })),
  }))
}

async function measure(label: string, fetchOnce: () => Promise<unknown>) {
  const gaps: number[] = []
  let worstP99 = 0
  for (let r = 0; r < ROUNDS; r++) {
    const h = monitorEventLoopDelay({ resolution: 1 })
    let last = performance.now()
    let maxGap = 0
    const t = setInterval(() => {
      const now = performance.now()
      maxGap = Math.max(maxGap, now - last)
      last = now
    }, 1)
    h.enable()
    await fetchOnce()
    h.disable()
    clearInterval(t)
    gaps.push(maxGap)
    worstP99 = Math.max(worstP99, h.percentile(99) / 1e6)
  }
  gaps.sort((a, b) => a - b)
  const f = (ms: number) => `${ms.toFixed(1)} ms`
  console.log(
    `${label}: longest gap between 1 ms ticks per fetch, over ${ROUNDS} fetches: min ${f(gaps[0]!)}, median ${f(gaps[ROUNDS >> 1]!)}, max ${f(gaps[ROUNDS - 1]!)}; monitorEventLoopDelay p99 max ${f(worstP99)}`,
  )
}

/** An HTTP server in a worker thread answering every request with `body`. */
async function serve(body: string): Promise<{ url: string; close(): Promise<number> }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    const server = require('node:http').createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(workerData))
    server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port))`
  const worker = new Worker(code, { eval: true, workerData: body })
  const port = await new Promise<number>((resolve) => worker.once('message', resolve))
  return { url: `http://127.0.0.1:${port}`, close: () => worker.terminate() }
}

for (const [label, day, expectOk] of [
  ['2 000 realistic slots, accepted', realisticDay(2_000), true],
  ['20 000 small slots, rejected by count', manySlotsDay(DATE, 20_000), false],
] as const) {
  const text = JSON.stringify(day)
  const server = await serve(text)
  try {
    const client = createPartnerClient({ baseUrl: server.url, apiKey: 'k' })
    await client.fetchDay(14, DATE) // warm-up: fetch's HTTP stack and zod's compiled checks
    await measure(`${label} (${(text.length / 1e6).toFixed(2)} MB)`, async () => {
      const r = await client.fetchDay(14, DATE)
      if (r.ok !== expectOk) throw new Error(`expected ok=${expectOk}`)
    })
  } finally {
    await server.close()
  }
}

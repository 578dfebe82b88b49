/**
 * Where a read's time goes: the servers of bench/api.ts under the same load,
 * one at a time, each with a CPU profile of its own process (node:inspector)
 * and the CPU each process used (this one, the Postgres backends, the load
 * generator) divided by the requests it served. The bare route, the Prisma
 * floor (bare + one `SELECT 1`) and the API without the cache side by side
 * show what a route does beyond the floor's one round trip.
 *
 *   node --import tsx bench/api-profile.ts [--route slots|dates] [--distribution uniform|zipf] [--seconds 6] [--products 450] [--servers bare,floor,floor-param,floor-pg,api]
 *
 * Writes each profile to bench/out/profile-<route>-<server>.cpuprofile (open in Chrome DevTools).
 */
import fs from 'node:fs'
import { Session } from 'node:inspector/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { FastifyInstance } from 'fastify'
import { addDays } from '../server/calendar/days.ts'
import { horizonAt } from '../server/calendar/horizon.ts'
import { systemClock } from '../server/clock.ts'
import { createDatabase } from '../server/db/client.ts'
import { ensureDatabase, startEmbeddedPostgres } from '../server/db/embedded-postgres.ts'
import { applyMigrations } from '../server/db/migrate.ts'
import { type Answers, floorServer, memoryServer } from './api-floor.ts'
import type { Distribution, LoadJob, LoadKey } from './api-load.ts'
import { apiServer, benchCatalogue, DAYS, load, preload, seed, TZ } from './api-setup.ts'

const { values: args } = parseArgs({
  options: {
    route: { type: 'string', default: 'slots' },
    distribution: { type: 'string', default: 'uniform' },
    seconds: { type: 'string', default: '6' },
    products: { type: 'string', default: '450' },
    connections: { type: 'string', default: '10' },
    servers: { type: 'string', default: 'bare,floor,api' },
    top: { type: 'string', default: '25' },
  },
})
const ROUTE = args.route as 'slots' | 'dates'
const PRODUCTS = Number(args.products)

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Where a frame's code lives: a package, a project file, Node's own code, or the engine (GC, native builtins). */
function placeOf(f: CallFrame): string {
  const nm = f.url.lastIndexOf('/node_modules/')
  if (nm !== -1) {
    const parts = f.url.slice(nm + '/node_modules/'.length).split('/')
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!
  }
  const src = f.url.match(/\/(server|bench)\/(.*)$/)
  if (src) return src[1] === 'server' && src[2]!.startsWith('db/generated/') ? 'prisma generated client' : `${src[1]}/${src[2]}`
  if (f.url.startsWith('node:')) return `node:${f.url.slice(5).split('/').slice(0, 2).join('/')}`
  if (f.url === '') return f.functionName.startsWith('(') ? f.functionName : `native ${f.functionName}`
  return f.url
}

/** Self time per place and inclusive time per place (a sample counts once for each place on its stack), in µs. */
function summarise(p: Profile): { self: Map<string, number>; inclusive: Map<string, number>; fns: Map<string, number>; total: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  const fns = new Map<string, number>()
  let total = 0
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v)
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]!)!
    const dt = p.timeDeltas[i] ?? 0
    if (node.callFrame.functionName === '(idle)') continue
    total += dt
    const place = placeOf(node.callFrame)
    add(self, place, dt)
    add(fns, `${node.callFrame.functionName || '(anonymous)'} ${place}:${node.callFrame.lineNumber + 1}`, dt)
    const seen = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const pl = placeOf(byId.get(id)!.callFrame)
      if (!seen.has(pl)) {
        seen.add(pl)
        add(inclusive, pl, dt)
      }
    }
  }
  return { self, inclusive, fns, total }
}

/** CPU (ms) each process of the cluster whose postmaster is `pid` has used so far, by process id. */
function postgresCpuMs(pid: number): Map<number, number> {
  const tick = 1000 / 100 // USER_HZ
  const ms = new Map<number, number>()
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // Fields after the command: state(0) ppid(1) … utime(11) stime(12).
      if (Number(d) === pid || Number(f[1]) === pid) ms.set(Number(d), (Number(f[11]) + Number(f[12])) * tick)
    } catch {
      // A process that ended while we looked.
    }
  }
  return ms
}

/** CPU used between two readings; a backend that ended in between (the pool closes idle connections) is left out. */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let ms = 0
  for (const [pid, t] of after) ms += t - (before.get(pid) ?? 0)
  return ms
}

const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-profile-'))
  const pg = await startEmbeddedPostgres({ dataDir })
  const closers: (() => Promise<unknown>)[] = [async () => pg.stop(), async () => fs.rmSync(dataDir, { recursive: true, force: true })]
  try {
    await ensureDatabase(pg.url, 'bench_api')
    await applyMigrations(pg.urlFor('bench_api'))
    const db = createDatabase(pg.urlFor('bench_api'))
    closers.unshift(() => db.close())
    const now = systemClock.now()
    const { today } = horizonAt(now, TZ)
    const ids = benchCatalogue(PRODUCTS).productIds()
    await seed(db, PRODUCTS, today, now)
    const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])

    const keys: LoadKey[] =
      ROUTE === 'slots'
        ? ids.flatMap((id) => Array.from({ length: DAYS }, (_, i) => ({ path: `/api/v1/experience/${id}/slots?date=${addDays(today, i)}` })))
        : ids.map((id) => ({ path: `/api/v1/experience/${id}/dates` }))
    const keysFile = path.join(dataDir, 'keys.json')
    fs.writeFileSync(keysFile, JSON.stringify(keys))
    const api = await apiServer(db, pg.urlFor('bench_api'), 0)
    closers.unshift(() => api.close())
    const bodies: Answers = { slots: new Map(), dates: new Map(), 'octo-calendar': new Map() }
    bodies[ROUTE] = await preload(api, keys, 'GET')

    const all: Record<string, () => { app: FastifyInstance; close(): Promise<void> }> = {
      bare: () => {
        const app = memoryServer(bodies)
        return { app, close: () => app.close() }
      },
      floor: () => floorServer('prisma', bodies, db, pg.urlFor('bench_api')),
      'floor-param': () => floorServer('prisma-param', bodies, db, pg.urlFor('bench_api')),
      'floor-pg': () => floorServer('pg', bodies, db, pg.urlFor('bench_api')),
      api: () => ({ app: api, close: async () => {} }),
    }
    const session = new Session()
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 100 })
    fs.mkdirSync('bench/out', { recursive: true })
    const job = (url: string, seconds: number, warmupSeconds: number): LoadJob => ({
      url,
      keysFile,
      distribution: args.distribution as Distribution,
      zipfS: 1,
      connections: Number(args.connections),
      seconds,
      warmupSeconds,
      method: 'GET',
      headers: {},
      seed: 42,
    })
    const rows: string[] = []
    for (const name of args.servers!.split(',')) {
      const server = all[name]!()
      const url = server.app.server.listening
        ? `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`
        : await server.app.listen({ port: 0, host: '127.0.0.1' })
      await load(job(url, 2, 0))
      const cpu0 = process.cpuUsage()
      const pg0 = postgresCpuMs(postmaster)
      await session.post('Profiler.start')
      const r = await load(job(url, Number(args.seconds), 0))
      const { profile } = (await session.post('Profiler.stop')) as { profile: Profile }
      const cpu = process.cpuUsage(cpu0)
      const pgMs = cpuBetween(pg0, postgresCpuMs(postmaster))
      if (name !== 'api') await server.close()
      fs.writeFileSync(`bench/out/profile-${ROUTE}-${name}.cpuprofile`, JSON.stringify(profile))
      const n = r.requests
      const us = (ms: number) => ((ms * 1000) / n).toFixed(0)
      const node = (cpu.user + cpu.system) / 1000
      rows.push(
        `${name.padEnd(9)} ${String(r.reqPerSec).padStart(7)} req/s p99 ${String(r.p99Ms).padStart(3)} ms | CPU µs/request: server ${us(node).padStart(4)}, postgres ${us(pgMs).padStart(4)}, generator ${us(r.cpuMs).padStart(4)}, total ${us(node + pgMs + r.cpuMs).padStart(4)}`,
      )
      const s = summarise(profile)
      console.log(
        `\n== ${ROUTE} ${args.distribution} ${name}: ${r.reqPerSec} req/s, ${n} requests; profiled ${(s.total / 1000).toFixed(0)} ms busy (${(s.total / n) | 0} µs/request)`,
      )
      console.log('self time by place (µs/request):')
      for (const [k, v] of top(s.self, Number(args.top))) console.log(`  ${(v / n).toFixed(1).padStart(7)}  ${k}`)
      console.log('inclusive time by place (µs/request):')
      for (const [k, v] of top(s.inclusive, Number(args.top))) console.log(`  ${(v / n).toFixed(1).padStart(7)}  ${k}`)
      console.log('top functions, self (µs/request):')
      for (const [k, v] of top(s.fns, Number(args.top))) console.log(`  ${(v / n).toFixed(1).padStart(7)}  ${k}`)
    }
    session.disconnect()
    console.log(
      `\n${ROUTE} ${args.distribution}, ${args.seconds} s each, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    )
    for (const row of rows) console.log(row)
  } finally {
    for (const close of closers) await close().catch(() => {})
  }
}

await main()

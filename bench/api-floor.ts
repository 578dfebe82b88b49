/**
 * The memory-backed servers of bench/api.ts: the bare route (each key's JSON
 * from memory) and the "floor" servers, the same app doing exactly one
 * database round trip per request before answering from memory. A floor's
 * ratio to the bare route is the best any Postgres-backed read can reach on
 * this machine through that client, whatever the query and however little
 * the API adds: the ceiling the routes are measured against.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import pg from 'pg'
import type { Database } from '../server/db/client.ts'

export interface Answers {
  slots: Map<string, unknown>
  dates: Map<string, unknown>
  'octo-calendar': Map<string, unknown>
}

export type Floor = 'prisma' | 'prisma-param' | 'pg'

/** The bare route's app: the same URLs, each key's preloaded JSON; `roundTrip` runs first on every request when given. */
export function memoryServer(bodies: Answers, roundTrip?: () => Promise<unknown>): FastifyInstance {
  const app = Fastify({ logger: false })
  if (roundTrip) app.addHook('onRequest', async () => void (await roundTrip()))
  app.get<{ Params: { id: string }; Querystring: { date: string } }>('/api/v1/experience/:id/slots', async (req) =>
    bodies.slots.get(`/api/v1/experience/${req.params.id}/slots?date=${req.query.date}`),
  )
  app.get<{ Params: { id: string } }>('/api/v1/experience/:id/dates', async (req) => bodies.dates.get(`/api/v1/experience/${req.params.id}/dates`))
  app.post('/octo/availability/calendar', async (req) => bodies['octo-calendar'].get(`/octo/availability/calendar${JSON.stringify(req.body)}`))
  return app
}

/**
 * A floor server and what it holds open. `prisma`: `SELECT 1` through the
 * production PrismaClient (adapter-pg, the API's own pool); `prisma-param`:
 * the same with one bound parameter (`SELECT $1::int`). `pg`: the same
 * statement on a bare `pg.Pool` of the same size, for reference: what
 * Prisma's query layer costs on top of the driver.
 */
export function floorServer(kind: Floor, bodies: Answers, db: Database, url: string): { app: FastifyInstance; close(): Promise<void> } {
  if (kind === 'prisma') {
    const app = memoryServer(bodies, () => db.prisma.$queryRaw`SELECT 1`)
    return { app, close: () => app.close() }
  }
  if (kind === 'prisma-param') {
    // A read needs a key: one bound parameter takes the extended protocol and Prisma's parameter handling, as every route's statement does.
    let n = 0
    const app = memoryServer(bodies, () => db.prisma.$queryRaw`SELECT ${++n % 1000}::int`)
    return { app, close: () => app.close() }
  }
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  const app = memoryServer(bodies, () => pool.query('SELECT 1'))
  return {
    app,
    async close() {
      await app.close()
      await pool.end()
    },
  }
}

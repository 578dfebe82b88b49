import fs from 'node:fs'
import type { FastifyInstance } from 'fastify'
import type { Metrics } from './metrics.ts'

const DASHBOARD_FILES = [
  { route: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { route: '/dashboard.js', file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  { route: '/dashboard.css', file: 'dashboard.css', type: 'text/css; charset=utf-8' },
] as const

/**
 * The page is plain files, read once at start: no build step. From source
 * they sit next to this module; a compiled build (its own folder inside the
 * package) finds them by walking up to the package's server/ folder.
 */
export function dashboardDir(from: URL = new URL('.', import.meta.url)): URL {
  for (let dir = from; ; dir = new URL('..', dir)) {
    for (const candidate of [new URL('dashboard/', dir), new URL('server/observability/dashboard/', dir)]) {
      if (fs.existsSync(new URL('index.html', candidate))) return candidate
    }
    if (dir.pathname === '/') throw new Error(`the dashboard's files (server/observability/dashboard) were not found above ${from.pathname}`)
  }
}

/**
 * `/metrics` (Prometheus text format) and the dashboard at `/`. Register
 * after registerApi, so they get its security headers and JSON 404s, and
 * outside its rate limit, like /health: a scraper or a page left open
 * must never see a 429.
 */
export async function observabilityRoutes(app: FastifyInstance, opts: { metrics: Metrics }): Promise<void> {
  // Outside the rate limit: the expensive part, the sync status, is the API's shared read (server.ts).
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const { contentType, body } = await opts.metrics.scrape()
    return reply.type(contentType).header('cache-control', 'no-store').send(body)
  })
  const dir = dashboardDir()
  for (const f of DASHBOARD_FILES) {
    const body = fs.readFileSync(new URL(f.file, dir))
    app.get(f.route, { schema: { hide: true } }, async (_req, reply) => reply.type(f.type).header('cache-control', 'no-cache').send(body))
  }
}

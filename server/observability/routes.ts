import fs from 'node:fs'
import type { FastifyInstance } from 'fastify'
import type { Metrics } from './metrics.ts'

// The page is plain files next to this module, read once: no build step.
const DASHBOARD_DIR = new URL('./dashboard/', import.meta.url)
const DASHBOARD_FILES = [
  { route: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { route: '/dashboard.js', file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  { route: '/dashboard.css', file: 'dashboard.css', type: 'text/css; charset=utf-8' },
] as const

/**
 * `/metrics` (Prometheus text format) and the dashboard at `/`. Register
 * after registerApi, so they get its security headers and JSON 404s, and
 * outside its rate limit, like /health: a scraper or a page left open
 * must never see a 429.
 */
export async function observabilityRoutes(app: FastifyInstance, opts: { metrics: Metrics }): Promise<void> {
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const { contentType, body } = await opts.metrics.scrape()
    return reply.type(contentType).header('cache-control', 'no-store').send(body)
  })
  for (const f of DASHBOARD_FILES) {
    const body = fs.readFileSync(new URL(f.file, DASHBOARD_DIR))
    app.get(f.route, { schema: { hide: true } }, async (_req, reply) => reply.type(f.type).header('cache-control', 'no-cache').send(body))
  }
}

import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { createMetrics, type StatusForMetrics } from '../../server/observability/metrics.ts'
import { parseExposition } from '../helpers/prometheus.ts'
import { ROOT } from '../helpers/process.ts'

// deploy/prometheus/alerts.yml: parseable, naming only metrics slotsync
// exports, and (promtool) valid PromQL whose alerts fire when they should.
const RULES = path.join(ROOT, 'deploy/prometheus/alerts.yml')
const RULE_TESTS = path.join(ROOT, 'deploy/prometheus/alerts.test.yml')
const CONFIG = path.join(ROOT, 'deploy/prometheus/prometheus.yml')

type Rule = { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }

function rules(): Rule[] {
  const doc = parse(fs.readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }
  return doc.groups.flatMap((g) => g.rules)
}

async function exportedNames(): Promise<Set<string>> {
  const status: StatusForMetrics = {
    paused: false,
    running: true,
    queue: 1,
    inFlight: 0,
    neverFetched: 0,
    tiers: { today: { total: 1, fresh: 1, due: 0, overdue: 0, oldestFetchedAt: new Date().toISOString() } },
    budget: { limitPerMinute: 30, usedLastMinute: 1, usedToday: 1, haltedUntil: null },
    lastSuccessAt: new Date().toISOString(),
    oldestServedFetchedAt: new Date().toISOString(),
    products: { active: 1, paused: 0 },
    failingProducts: [{ productId: 14, failingDays: 1 }],
  }
  const m = createMetrics({ syncStatus: async () => status, processDefaults: false })
  const names = new Set<string>()
  for (const f of parseExposition((await m.scrape()).body).values()) {
    names.add(f.name)
    for (const s of f.samples) names.add(s.name)
  }
  return names
}

describe('alert rules', () => {
  it('cover the four situations the issue names, each with a severity and a summary', () => {
    const byName = new Map(rules().map((r) => [r.alert, r]))
    for (const name of ['SlotsyncPartnerRateLimited', 'SlotsyncTodayTierBehind', 'SlotsyncProductFailing', 'SlotsyncBudgetIdle']) {
      const r = byName.get(name)
      expect(r, name).toBeDefined()
      expect(r!.labels?.severity, name).toMatch(/^(warning|critical)$/)
      expect(r!.annotations?.summary, name).toBeTruthy()
    }
    expect(byName.get('SlotsyncProductFailing')!.for).toBe('1h')
  })

  it('name only metrics slotsync exports', async () => {
    const exported = await exportedNames()
    const used = new Set(rules().flatMap((r) => r.expr.match(/\bslotsync_[a-z0-9_]+/g) ?? []))
    expect(used.size).toBeGreaterThanOrEqual(8)
    for (const name of used) expect(exported.has(name), name).toBe(true)
  })

  it('pass promtool: valid PromQL, the unit tests in alerts.test.yml (each alert fires on its case, not on the look-alike), and the example configuration', () => {
    let promtool: string
    try {
      promtool = execFileSync('sh', ['-c', 'command -v promtool']).toString().trim()
    } catch {
      throw new Error('promtool is missing: run `apt-get install -y --no-install-recommends prometheus` (.ci/run installs it when missing).')
    }
    const run = (...args: string[]) => {
      const r = spawnSync(promtool, args, { encoding: 'utf8' })
      // promtool's own output names the failing rule or test case.
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0)
      return r.stdout
    }
    expect(run('check', 'rules', RULES)).toMatch(/SUCCESS: 5 rules found/)
    expect(run('test', 'rules', RULE_TESTS)).toMatch(/SUCCESS/)
    expect(run('check', 'config', CONFIG)).toMatch(/SUCCESS: 1 rule files found/)
  })
})

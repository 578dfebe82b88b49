import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, startProcess } from '../helpers/process.ts'

// The build goes inside the checkout (as dist/ does), so that the bundle's
// bare imports resolve from the project's node_modules, as they do in production.
const outDir = path.join(ROOT, '.test-dist', randomBytes(4).toString('hex'))
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-compiled-'))

beforeAll(() => {
  execFileSync(path.join(ROOT, 'node_modules/.bin/tsup'), ['--config', 'tsup.server.config.ts', '--out-dir', outDir, '--silent'], { cwd: ROOT, stdio: 'pipe' })
}, 60_000)
afterAll(() => {
  fs.rmSync(outDir, { recursive: true, force: true })
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('the compiled server (`npm run build`, then `npm start`)', () => {
  it('is plain JavaScript: no import of a .ts file or of a TypeScript loader', () => {
    const files = fs.readdirSync(outDir).filter((f) => f.endsWith('.js'))
    expect(files).toContain('main.js')
    for (const f of files) {
      const js = fs.readFileSync(path.join(outDir, f), 'utf8')
      expect(js, f).not.toMatch(/from\s*["'][^"']+\.ts["']/)
      expect(js, f).not.toMatch(/["']tsx(\/[^"']*)?["']/)
    }
  })

  it('runs with plain node: migrates the embedded Postgres, answers /ready, stops on SIGTERM', async () => {
    const p = await startProcess(path.join(outDir, 'main.js'), { PORT: '0', SLOTSYNC_DATA_DIR: dataDir, SANDBOX_PORT: '0', SANDBOX_PRODUCTS: '2' })
    try {
      expect(p.output()).toContain('applied migration')
      const ready = await fetch(`${p.url}/ready`)
      expect(await ready.json()).toEqual({ ready: true, database: true, migrations: true })
      const dates = await fetch(`${p.url}/api/v1/experience/14/dates`)
      expect(dates.status).toBe(200)
    } finally {
      p.child.kill('SIGTERM')
    }
    expect(await p.exited).toBe(0)
  })
})

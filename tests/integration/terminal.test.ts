import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSandbox, type Sandbox } from '../../server/sandbox/server.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { ROOT } from '../helpers/process.ts'
import { waitFor } from '../helpers/reliability-server.ts'

// util-linux `script` gives the child a real pseudo-terminal: what a person
// sees running `npm start` by hand.
let partner: Sandbox
let db: TestDatabase
beforeAll(async () => {
  partner = await startSandbox({ products: 1, rateLimitPerMinute: 100_000 })
  db = await createTestDatabase()
})
afterAll(async () => {
  await partner?.close()
  await db?.drop()
})

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '')

describe('on a terminal', () => {
  it('logs readable lines, and shows the generated admin token once, which works', async () => {
    const child = spawn('script', ['-qfec', `${process.execPath} --import tsx server/main.ts`, '/dev/null'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        TERM: 'xterm',
        PORT: '0',
        DATABASE_URL: db.url,
        PARTNER_BASE_URL: partner.url,
        PARTNER_API_KEY: partner.apiKey,
        SYNC_PRODUCT_IDS: '14',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const exited = new Promise((r) => child.on('exit', r))
    try {
      const token = await waitFor('the token line', () => /admin token for this run \(set ADMIN_TOKEN to choose one\): (\S+)/.exec(stripAnsi(out))?.[1], 60_000)
      const text = stripAnsi(out)
      const url = /url: "(http:\/\/[^"]+)"/.exec(text)?.[1]
      expect(url).toBeDefined()
      expect(text).toMatch(/INFO.*slotsync is running/)
      expect(text).not.toMatch(/^\{"level"/m) // no JSON on a terminal
      expect(text.split(token).length - 1).toBe(1) // shown once, and in no log record
      const res = await fetch(`${url}/api/v1/sync/pause`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{}',
      })
      expect(res.status).toBe(200)
    } finally {
      child.kill('SIGTERM')
      await exited
    }
  })
})

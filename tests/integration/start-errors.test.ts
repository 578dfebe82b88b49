import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../server/db/embedded-postgres.ts'
import { ROOT } from '../helpers/process.ts'

// Each case runs the compiled server as a real child process (tsx would pull
// in esbuild, whose own platform check the simulated platform would break)
// and expects: exit code 1, one line on stderr naming cause and fix, no stack
// trace, and nothing created on disk.
const build = path.join(ROOT, '.test-dist', randomBytes(4).toString('hex'))
const scratch: string[] = []
beforeAll(() => {
  execFileSync(path.join(ROOT, 'node_modules/.bin/tsup'), ['--config', 'tsup.server.config.ts', '--out-dir', build, '--silent'], { cwd: ROOT, stdio: 'pipe' })
}, 60_000)
afterAll(() => {
  for (const d of [build, ...scratch]) fs.rmSync(d, { recursive: true, force: true })
})

function tempDir(mode: number): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-starterr-'))
  fs.chmodSync(d, mode)
  scratch.push(d)
  return d
}

function run(nodeArgs: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, nodeArgs, {
      cwd: os.tmpdir(),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

function expectOneLine(r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(1)
  const lines = r.stderr.trim().split('\n')
  expect(lines, r.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^slotsync: /)
  expect(lines[0]).toMatch(pattern)
  expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /) // no stack trace
}

describe('clear errors at start', () => {
  it('the postgres user cannot reach the install directory (root, checkout in a 0700 directory)', async () => {
    if (process.getuid?.() !== 0) throw new Error('this case needs root, as CI runs')
    // The checkout seen through a private directory: --preserve-symlinks keeps
    // the path, so the Postgres programs are reached through it, as from /root.
    const privateDir = tempDir(0o700)
    const app = path.join(privateDir, 'slotsync')
    fs.mkdirSync(app)
    fs.cpSync(build, path.join(app, 'dist'), { recursive: true })
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(app, 'package.json'))
    for (const link of ['node_modules', 'prisma']) fs.symlinkSync(path.join(ROOT, link), path.join(app, link))
    const dataHome = tempDir(0o755)
    const r = await run(['--preserve-symlinks', '--preserve-symlinks-main', path.join(app, 'dist/main.js')], { SLOTSYNC_DATA_DIR: path.join(dataHome, 'data') })
    expectOneLine(r, new RegExp(`"postgres" user .* cannot execute .*initdb: ${privateDir} is closed to other users; .*set DATABASE_URL`))
    expect(fs.readdirSync(dataHome)).toEqual([])
    expect(fs.statSync(privateDir).mode & 0o777).toBe(0o700) // not "fixed" behind the operator's back
  })

  it('the API port is already in use', async () => {
    const taken = net.createServer()
    const port = await freePort()
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r))
    try {
      const dataHome = tempDir(0o755)
      const r = await run([path.join(build, 'main.js')], { PORT: String(port), SLOTSYNC_DATA_DIR: path.join(dataHome, 'data') })
      expectOneLine(r, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*set PORT`))
      expect(fs.readdirSync(dataHome)).toEqual([]) // no database created for a server that cannot listen
    } finally {
      taken.close()
    }
  })

  it('DATABASE_URL points at a closed port', async () => {
    const port = await freePort()
    const r = await run([path.join(build, 'main.js')], { DATABASE_URL: `postgresql://slot:hunter2-secret@127.0.0.1:${port}/slotsync` })
    expectOneLine(r, new RegExp(`cannot reach the database at 127\\.0\\.0\\.1:${port}/slotsync \\(DATABASE_URL\\): connection refused`))
    expect(r.stdout + r.stderr).not.toContain('hunter2-secret')
  })

  it('the data directory cannot be created (SLOTSYNC_DATA_DIR under a file)', async () => {
    const home = tempDir(0o755)
    fs.writeFileSync(path.join(home, 'not-a-dir'), '')
    const r = await run([path.join(build, 'main.js')], { SLOTSYNC_DATA_DIR: path.join(home, 'not-a-dir', 'data') })
    expectOneLine(
      r,
      /cannot create the embedded Postgres data directory .*not-a-dir\/data\/postgres \(SLOTSYNC_DATA_DIR\): a file is in the way .*set DATABASE_URL/,
    )
    expect(fs.readdirSync(home)).toEqual(['not-a-dir'])
  })

  it.each([
    ['linux', 'mips64', /no embedded Postgres for linux\/mips64: embedded-postgres publishes no binaries .*set DATABASE_URL/],
    [
      process.platform === 'darwin' ? 'linux' : 'darwin',
      'arm64',
      /no embedded Postgres for \w+\/arm64: @embedded-postgres\/\w+-arm64 is not installed.*set DATABASE_URL/,
    ],
  ])('no embedded binary for %s/%s (this machine presented as one)', async (platform, arch, pattern) => {
    const dataHome = tempDir(0o755)
    const pretend = `data:text/javascript,Object.defineProperty(process,"platform",{value:"${platform}"});Object.defineProperty(process,"arch",{value:"${arch}"})`
    const r = await run(['--import', pretend, path.join(build, 'main.js')], { SLOTSYNC_DATA_DIR: path.join(dataHome, 'data') })
    expectOneLine(r, pattern)
    expect(fs.readdirSync(dataHome)).toEqual([])
  })
})

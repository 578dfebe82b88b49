/**
 * The compiled service as `npm start` runs it (`node dist/main.js` with the
 * start script's node flags and environment defaults), as a child process on a free port with the embedded Postgres in a fresh data
 * directory and the in-process partner sandbox: for benchmarks that measure
 * the service from outside (memory over time, behaviour under abuse).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export interface ServiceProcess {
  base: string
  /** What ran: node's arguments before the script, and the variables set besides PATH, HOME, PORT and SLOTSYNC_DATA_DIR. */
  settings: { nodeArgs: string[]; env: Record<string, string> }
  pid: number
  dataDir: string
  logFile: string
  /** undefined while running; the exit code (-1: killed by a signal) after. */
  readonly exitCode: number | null | undefined
  /** SIGTERM, then SIGKILL after `graceMs`; removes the data directory. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null | undefined>
}

export interface StartServiceOptions {
  /** Variables on top of PATH, HOME, PORT, SLOTSYNC_DATA_DIR and the start script's defaults. */
  env: Record<string, string>
  logFile: string
  /** Flags after the start script's (a later V8 flag wins over an earlier one). */
  nodeArgs?: string[]
  /** Node's and glibc's own defaults (`node --enable-source-maps` only) instead of the start script's settings. */
  nodeDefaults?: boolean
  /** The script node runs (default dist/main.js: the build `npm start` runs). */
  entry?: string
  /** Rebuild dist/ first (default true). */
  build?: boolean
  readyTimeoutMs?: number
  log?: (line: string) => void
}

/**
 * The node flags and environment defaults of package.json's start script
 * (`[NAME=${NAME:-value} ...] exec node <flags> dist/main.js`), so a bench runs what `npm start` runs.
 */
export function startScriptSettings(script: string): { nodeArgs: string[]; env: Record<string, string> } {
  const m = /^((?:\w+=\$\{\w+:-[^}]*\}\s+)*)exec node\s+(.*?)\s*dist\/main\.js$/.exec(script.trim())
  if (!m) throw new Error(`package.json's start script is not \`[NAME=\${NAME:-value} ...] exec node <flags> dist/main.js\`: ${script}`)
  const env = Object.fromEntries([...m[1]!.matchAll(/(\w+)=\$\{\w+:-([^}]*)\}/g)].map(([, name, value]) => [name!, value!]))
  return { nodeArgs: m[2]!.split(/\s+/).filter(Boolean), env }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

const pgrep = (...a: string[]) => {
  try {
    return execFileSync('pgrep', a).toString().trim().split('\n').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** The postmaster of the data directory and its children (checkpointer, walwriter, one backend per connection, ...). */
export function postgresPids(dataDir: string): number[] {
  const postmasters = pgrep('-f', `postgres -D ${dataDir}`)
  return [...postmasters, ...postmasters.flatMap((pid) => pgrep('-P', String(pid)))]
}

/** Starts the compiled service and resolves once /ready answers 200. */
export async function startService(o: StartServiceOptions): Promise<ServiceProcess> {
  const log = o.log ?? (() => {})
  if (o.build !== false) {
    log('building dist/ (tsup --config tsup.server.config.ts)')
    const b = spawnSync('npx', ['tsup', '--config', 'tsup.server.config.ts', '--silent'], { stdio: 'inherit' })
    if (b.status !== 0) throw new Error(`build failed (exit ${b.status})`)
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-'))
  // As root the embedded Postgres runs as `postgres`, which must reach its directory.
  fs.chmodSync(dataDir, 0o755)
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const start = o.nodeDefaults
    ? { nodeArgs: ['--enable-source-maps'], env: {} }
    : startScriptSettings(JSON.parse(fs.readFileSync('package.json', 'utf8')).scripts.start)
  const settings = { nodeArgs: [...start.nodeArgs, ...(o.nodeArgs ?? [])], env: { ...start.env, ...o.env } }
  const child = spawn(process.execPath, [...settings.nodeArgs, o.entry ?? 'dist/main.js'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PORT: String(port), SLOTSYNC_DATA_DIR: dataDir, ...settings.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  fs.mkdirSync(path.dirname(o.logFile), { recursive: true })
  const serviceLog = fs.createWriteStream(o.logFile)
  child.stdout!.pipe(serviceLog)
  child.stderr!.pipe(serviceLog)
  let exitCode: number | null | undefined
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null)
      resolve()
    }),
  )
  log(`service pid ${child.pid} on ${base}, data ${dataDir}, log ${o.logFile}`)
  log(
    `node ${settings.nodeArgs.join(' ')}; ${
      Object.entries(settings.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || 'no extra environment'
    }`,
  )

  let stopped: Promise<number | null | undefined> | undefined
  const stop = (graceMs = 40_000) =>
    (stopped ??= (async () => {
      if (exitCode === undefined) {
        const t = Date.now()
        child.kill('SIGTERM')
        await Promise.race([exited, sleep(graceMs)])
        log(`service exited ${exitCode} ${((Date.now() - t) / 1000).toFixed(1)} s after SIGTERM`)
        if (exitCode === undefined) {
          log(`no exit ${graceMs / 1000} s after SIGTERM: SIGKILL`)
          child.kill('SIGKILL')
          await exited
          for (const pid of postgresPids(dataDir)) process.kill(pid, 'SIGKILL')
        }
      }
      fs.rmSync(dataDir, { recursive: true, force: true })
      return exitCode
    })())

  const readyBy = Date.now() + (o.readyTimeoutMs ?? 120_000)
  for (;;) {
    if (exitCode !== undefined) {
      await stop()
      throw new Error(`service exited (${exitCode}) before ready; see ${o.logFile}`)
    }
    if (Date.now() > readyBy) {
      await stop()
      throw new Error(`service not ready in time; see ${o.logFile}`)
    }
    const ok = await fetch(`${base}/ready`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    await sleep(500)
  }
  return {
    base,
    settings,
    pid: child.pid!,
    dataDir,
    logFile: o.logFile,
    get exitCode() {
      return exitCode
    },
    stop,
  }
}

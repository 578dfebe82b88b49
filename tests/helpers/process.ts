import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface Started {
  child: ChildProcess
  url: string
  output(): string
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>
}

/** The start-up record of slotsync's JSON log, if `output` holds it. */
export function startupRecord(output: string): Record<string, unknown> | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"slotsync is running"')) continue
    try {
      const rec = JSON.parse(line) as Record<string, unknown>
      if (rec.msg === 'slotsync is running') return rec
    } catch {
      /* a line cut mid-write: the next data event completes it */
    }
  }
  return undefined
}

/** The URL of a started service: slotsync's start-up record, or the sandbox's "running at" line. */
function bannerUrl(output: string): string | undefined {
  const url = startupRecord(output)?.url
  if (typeof url === 'string') return url
  return /running at (http:\/\/\S+)/.exec(output)?.[1]
}

/**
 * Runs `<script>` in a child `node` and waits for its "running at" banner: a
 * `.ts` file through tsx (the source `npm run dev` runs), a `.js` file as is
 * (the build `npm start` runs).
 */
export async function startProcess(script: string, env: Record<string, string>, timeoutMs = 60_000): Promise<Started> {
  const args = script.endsWith('.js') ? ['--enable-source-maps', script] : ['--import', 'tsx', script]
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within ${timeoutMs} ms:\n${out}`)), timeoutMs)
    const onData = () => {
      const found = bannerUrl(out)
      if (found) {
        clearTimeout(timer)
        resolve(found)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before listening:\n${out}`))
    })
  })
  return { child, url, output: () => out, exited }
}

export function postgresPidsFor(dataDir: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `postgres -D ${dataDir}`])
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}

export interface ExampleRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Starts `examples/<name>.ts` as a user runs it; `output()`/`errors()` are what it printed so far, `done` its end. */
export function startExample(name: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${name}.ts`, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => (stdout += d))
  child.stderr!.on('data', (d) => (stderr += d))
  const done = new Promise<ExampleRun>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
  return { child, done, output: () => stdout, errors: () => stderr }
}

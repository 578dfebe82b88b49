import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { startScriptSettings } from '../../bench/service-process.ts'

const start: string = JSON.parse(fs.readFileSync('package.json', 'utf8')).scripts.start

/** The start script under `sh` (as npm runs it), with the service swapped for a script printing what node got. */
function runStart(env: Record<string, string>) {
  const probe = start.replace(/dist\/main\.js$/, `-p 'JSON.stringify({ arena: process.env.MALLOC_ARENA_MAX, flags: process.execArgv })'`)
  return JSON.parse(execFileSync('sh', ['-c', probe], { env: { PATH: process.env.PATH, ...env } }).toString()) as { arena?: string; flags: string[] }
}

describe('the start script (npm start)', () => {
  it('runs node with its memory settings under sh: MALLOC_ARENA_MAX 2 unless the operator sets it, flags this node accepts', () => {
    const { nodeArgs, env } = startScriptSettings(start)
    expect(env).toEqual({ MALLOC_ARENA_MAX: '2' })
    expect(nodeArgs).toContain('--enable-source-maps')
    const ran = runStart({})
    expect(ran.arena).toBe('2')
    expect(ran.flags).toEqual([...nodeArgs, '-p', expect.any(String)])
    expect(runStart({ MALLOC_ARENA_MAX: '8' }).arena).toBe('8')
  })

  it('the benches read it as npm runs it, and refuse a form they cannot read', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, as in package.json
    expect(startScriptSettings('A=${A:-1} B=${B:-x y} exec node --a --b=2 dist/main.js')).toEqual({ nodeArgs: ['--a', '--b=2'], env: { A: '1', B: 'x y' } })
    expect(() => startScriptSettings('node dist/main.js')).toThrow(/start script/)
  })
})

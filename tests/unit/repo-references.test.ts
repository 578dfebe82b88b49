import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/process.ts'

// A clone holds only the repository: a document the code or the README cites
// must be in it (docs/contracts/ holds the contracts the code was built against).
const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })
  .toString()
  .split('\0')
  .filter((f) => /\.(ts|mts|cts|mjs|js|md|json|jsonc|yml|sh)$/.test(f) && f !== 'tests/unit/repo-references.test.ts' && !f.startsWith('bench/results/'))
  .filter((f) => fs.existsSync(path.join(ROOT, f)))
const text = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8')

describe('references inside the repository', () => {
  it('cite no file of the workspace around it (shared/...)', () => {
    const outside = files.filter((f) => /(?<![\w-])(\.\.\/)*shared\/(contracts|notes|tools|hooks)\//.test(text(f)))
    expect(outside).toEqual([])
  })

  it('cite only docs/ files that exist', () => {
    const cited = new Set(files.flatMap((f) => [...text(f).matchAll(/\bdocs\/[\w./-]+\.(?:md|png)\b/g)].map((m) => m[0])))
    expect(cited.size).toBeGreaterThan(4)
    expect([...cited].filter((c) => !fs.existsSync(path.join(ROOT, c)))).toEqual([])
  })
})

// npm lifecycle steps that need the build tools (devDependencies), which a
// production install (`npm ci --omit=dev`) does not have. Plain JavaScript
// run by `node`, so that it works with no TypeScript loader installed.
//
//   node scripts/dev-tools.mjs postinstall   generate the Prisma client, when the prisma CLI is installed
//   node scripts/dev-tools.mjs prestart      rebuild dist/ when tsup is installed; else require a built dist/ (npm start, npm run sandbox)
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(path.join(root, 'package.json'))

function installed(pkg) {
  try {
    require.resolve(`${pkg}/package.json`)
    return true
  } catch {
    return false
  }
}

function run(command, args) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' })
  process.exit(r.status ?? 1)
}

const step = process.argv[2]
if (step === 'postinstall') {
  // The generated client is bundled into dist/ by the build: without the
  // CLI there is nothing to generate it for.
  if (installed('prisma')) run('npm', ['run', '--silent', 'db:generate'])
} else if (step === 'prestart') {
  // With the tools present (development), always rebuild, so `npm start`
  // never runs stale code; without them (production), run the build made
  // before `npm ci --omit=dev`, which leaves dist/ in place.
  if (installed('tsup')) run(path.join(root, 'node_modules/.bin/tsup'), ['--config', 'tsup.server.config.ts', '--silent'])
  if (!fs.existsSync(path.join(root, 'dist/main.js'))) {
    process.stderr.write(
      'slotsync: dist/main.js is missing and the build tools are not installed (a production install).\n' +
        'Build first with the dev dependencies (npm ci && npm run build:server), then npm ci --omit=dev: dist/ stays.\n',
    )
    process.exit(1)
  }
} else {
  process.stderr.write(`usage: node scripts/dev-tools.mjs postinstall|prestart\n`)
  process.exit(2)
}

/**
 * Regenerates sdk/src/generated/app-router.ts from the server's router (see
 * router-type.ts for why the SDK has its own copy of the router's type).
 *
 *   npm run generate:sdk                                              # write
 *   node --import tsx sdk/scripts/generate-router-type.ts --check     # exit 1 if stale
 */
import fs from 'node:fs'
import path from 'node:path'
import { OUTPUT, RouterTypeError, generateRouterModule } from './router-type.ts'

const relative = path.relative(process.cwd(), OUTPUT)
try {
  const { module: generated, undocumented } = generateRouterModule()
  // Not fatal here (the router may be mid-change); tests/unit/sdk-field-docs.test.ts fails on it.
  if (undocumented.length)
    process.stderr.write(
      `generate-router-type: ${undocumented.length} field(s) without a doc comment (TSDoc or .meta description):\n  ${undocumented.join('\n  ')}\n`,
    )
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(OUTPUT) ? fs.readFileSync(OUTPUT, 'utf8') : ''
    if (current !== generated) throw new RouterTypeError(`${relative} is out of date with the router: run \`npm run generate:sdk\``)
    process.stdout.write(`${relative} is up to date\n`)
  } else {
    fs.mkdirSync(path.dirname(OUTPUT), { recursive: true })
    fs.writeFileSync(OUTPUT, generated)
    process.stdout.write(`wrote ${relative}\n`)
  }
} catch (err) {
  if (!(err instanceof RouterTypeError)) throw err
  process.stderr.write(`generate-router-type: ${err.message}\n`)
  process.exitCode = 1
}

import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { generateRouterModule, OUTPUT } from '../../sdk/scripts/router-type.ts'
import { ROOT } from '../helpers/process.ts'
import { sdkFieldDocs } from '../helpers/type-docs.ts'

// Every field of every procedure's input and answer carries a doc comment in
// the SDK's types, so a consumer's editor explains it on hover. The fields'
// docs are written in the server's schemas (server/api/*schemas.ts) and copied
// into the SDK's router type by `npm run generate:sdk`
// (sdk/scripts/field-docs.ts); tests/integration/sdk-package.test.ts checks
// the same in the packed package.

function sdkOptions(): ts.CompilerOptions {
  const configPath = path.join(ROOT, 'sdk/tsconfig.json')
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
  if (!parsed) throw new Error(`cannot read ${configPath}`)
  return parsed.options
}

describe('doc comments on the SDK payload fields', () => {
  it('the server schemas give every field one, and the committed router type is what they generate', () => {
    const { module, undocumented } = generateRouterModule()
    expect(undocumented).toEqual([])
    // Once each: declaration emit keeps some comments itself (the root router's entries).
    expect(module.match(/^\s*(\/\*\*.*\*\/)\n\s*\1$/m)).toBeNull()
    // Else a doc changed in a schema is not in the SDK yet: `npm run generate:sdk`.
    expect(fs.readFileSync(OUTPUT, 'utf8')).toBe(module)
  }, 60_000)

  it("the SDK's RouterInputs and RouterOutputs have one on every property, as an editor resolves them", () => {
    const sdkSrc = path.join(ROOT, 'sdk/src')
    const report = sdkFieldDocs({
      probeFile: path.join(sdkSrc, '__field-docs-probe__.ts'),
      specifier: './index.ts',
      options: sdkOptions(),
      own: (f) => path.resolve(f).startsWith(sdkSrc + path.sep),
    })
    // The walk reaches the depths: nested arrays, a nullable object, a
    // subscription's events (through AsyncIterable and TrackedData), inputs.
    expect(report.checked).toEqual(
      expect.arrayContaining([
        'input:availability.slots.productId',
        'output:availability.slots.slots.paxAvailability.price.finalPrice',
        'output:sync.status.lastError.message',
        'output:sync.status.tiers.overdue',
        'output:availability.changes.data.soldOut',
        'output:admin.audit.actions.tokenId',
      ]),
    )
    expect(report.undocumented).toEqual([])
  }, 60_000)
})

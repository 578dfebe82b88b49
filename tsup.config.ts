import fs from 'node:fs'
import { defineConfig, type Options } from 'tsup'

// Builds the SDK package (sdk/): ESM (index.js + index.d.ts) and CJS
// (index.cjs + index.d.cts), so `import`, `require` and TypeScript's node16
// and bundler resolution each find code and types of their own format.
const common: Options = {
  entry: { index: 'sdk/src/index.ts' },
  outDir: 'sdk/dist',
  tsconfig: 'sdk/tsconfig.json',
  dts: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  // Deps stay imports (the consumer installs them); @trpc/server is only
  // ever a type import, erased from the JS.
  external: ['@trpc/client', '@trpc/server', 'superjson'],
}

// The two builds run at once, so neither may `clean` (it could delete the
// other's output): empty the folder here, before either starts.
fs.rmSync('sdk/dist', { recursive: true, force: true })

export default defineConfig([
  { ...common, format: 'esm' },
  {
    ...common,
    format: 'cjs',
    // superjson 2 (and its copy-anything, is-what) ship ESM only, which
    // require() loads only on Node >= 20.19 and not in CJS tools such as
    // Jest; the CJS build carries its own copy so `require` works anywhere.
    external: ['@trpc/client', '@trpc/server'],
    noExternal: ['superjson', 'copy-anything', 'is-what'],
  },
])

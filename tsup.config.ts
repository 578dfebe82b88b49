import { defineConfig } from 'tsup'

// Builds the SDK package (sdk/): ESM + CJS + .d.ts.
export default defineConfig({
  entry: { index: 'sdk/src/index.ts' },
  outDir: 'sdk/dist',
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
})

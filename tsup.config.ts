import { defineConfig } from 'tsup'

// Builds the SDK package (sdk/): ESM (index.js + index.d.ts) and CJS
// (index.cjs + index.d.cts), so `import`, `require` and TypeScript's node16
// and bundler resolution each find code and types of their own format.
export default defineConfig({
  entry: { index: 'sdk/src/index.ts' },
  outDir: 'sdk/dist',
  tsconfig: 'sdk/tsconfig.json',
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  // Runtime deps stay imports, resolved in the consumer's node_modules;
  // @trpc/server is only ever a type import, erased from the JS.
  external: ['@trpc/client', '@trpc/server', 'eventsource'],
  // superjson 2 (with copy-anything, is-what) ships ESM only, which require()
  // loads only on Node >= 20.19 and not at all in CJS tools such as Jest: the
  // CJS build carries its own copy, the ESM build imports the dependency.
  noExternal: ['superjson', 'copy-anything', 'is-what'],
  esbuildPlugins: [
    {
      name: 'superjson-external-in-esm',
      setup(build) {
        if (build.initialOptions.format !== 'esm') return
        build.onResolve({ filter: /^superjson$/ }, (args) => ({ path: args.path, external: true }))
      },
    },
  ],
})

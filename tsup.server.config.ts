import { defineConfig } from 'tsup'

// Builds the service for `npm start`: plain JavaScript that `node` runs with
// no TypeScript loader. The server's own code (and the generated Prisma
// client under server/db/generated) is bundled into a few files; every
// package in node_modules stays an import, resolved at run time as under tsx.
export default defineConfig({
  entry: { main: 'server/main.ts', sandbox: 'server/sandbox/main.ts' },
  outDir: 'dist',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  skipNodeModulesBundle: true,
  splitting: true,
  sourcemap: true,
  clean: true,
  dts: false,
})

import { createRequire } from 'node:module'
import path from 'node:path'
import { defineConfig } from 'tsup'

const prismaClientDir = path.dirname(createRequire(import.meta.url).resolve('@prisma/client/package.json'))

// Builds the service for `npm start`: plain JavaScript that `node` runs with
// no TypeScript loader. The server's own code (and the generated Prisma
// client under server/db/generated) is bundled into a few files; every
// package in node_modules stays an import, resolved at run time as under tsx,
// except Prisma's client runtime: @prisma/client ships the query compiler of
// every database it supports (72 MB), of which the bundle takes the
// PostgreSQL one it imports, so a production install needs no @prisma/client.
export default defineConfig({
  entry: { main: 'server/main.ts', sandbox: 'server/sandbox/main.ts' },
  outDir: 'dist',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  skipNodeModulesBundle: true,
  noExternal: [/^@prisma\/client(\/|$)/, '@prisma/client-runtime-utils'],
  splitting: true,
  sourcemap: true,
  clean: true,
  dts: false,
  // Stack traces need the mappings only; the sources are in server/ beside
  // dist/. Left in, the bundled Prisma query compiler (a 4.5 MB base64
  // string) would be copied into a map that --enable-source-maps loads.
  esbuildOptions(options) {
    options.sourcesContent = false
  },
  esbuildPlugins: [
    {
      // Under the `node` condition @prisma/client's exports name its CommonJS
      // runtime, whose require() calls an ESM bundle cannot make: take the ESM one.
      name: 'prisma-runtime-esm',
      setup(build) {
        build.onResolve({ filter: /^@prisma\/client\/runtime\/client$/ }, () => ({ path: path.join(prismaClientDir, 'runtime/client.mjs') }))
      },
    },
  ],
})

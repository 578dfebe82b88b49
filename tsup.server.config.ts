import { createRequire } from 'node:module'
import path from 'node:path'
import { defineConfig } from 'tsup'

/**
 * otel.ts's imports and everything they import in turn (`npm ls` of each):
 * none may stay a bare import, since none is a runtime dependency. The
 * compiled-start test fails on a bare import in dist/ that package.json's
 * dependencies do not name.
 */
const TRACING = [
  /^@opentelemetry\//,
  '@prisma/instrumentation',
  // The instrumentations' module hooks, and theirs.
  'require-in-the-middle',
  'import-in-the-middle',
  'module-details-from-path',
  'cjs-module-lexer',
  'es-module-lexer',
  'acorn',
  'acorn-import-attributes',
  'debug',
  'ms',
  // @opentelemetry/instrumentation-http's parser of the Forwarded header.
  'forwarded-parse',
]

const prismaClientDir = path.dirname(createRequire(import.meta.url).resolve('@prisma/client/package.json'))

// Builds the service for `npm start`: plain JavaScript that `node` runs with
// no TypeScript loader. The server's own code (and the generated Prisma
// client under server/db/generated) is bundled into a few files; every
// package in node_modules stays an import, resolved at run time as under tsx,
// except two groups that a production install would carry mostly unused:
// - Prisma's client runtime: @prisma/client ships the query compiler of
//   every database it supports (72 MB), of which the bundle takes the
//   PostgreSQL one it imports, so a production install needs no @prisma/client.
// - tracing (server/otel.ts): the OpenTelemetry SDK, its exporters and the
//   instrumentations, with what they import. Each package ships three builds
//   (44 MB installed); the bundle holds the one it uses, in the chunk that
//   main.ts imports only when OTEL_* is set.
export default defineConfig({
  entry: { main: 'server/main.ts', sandbox: 'server/sandbox/main.ts' },
  outDir: 'dist',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  skipNodeModulesBundle: true,
  noExternal: [/^@prisma\/client(\/|$)/, '@prisma/client-runtime-utils', ...TRACING],
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
  // The bundled CommonJS packages (require-in-the-middle, most of
  // OpenTelemetry's dependencies) call require() for Node's modules, which an
  // ES module does not have: give each chunk one. (require-in-the-middle then
  // hooks the real Module.prototype.require, which Fastify's and pg's own
  // require() calls go through, as they do unbundled.)
  banner: { js: "import { createRequire as __slotsyncCreateRequire } from 'node:module'; const require = __slotsyncCreateRequire(import.meta.url);" },
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

import pkg from '../package.json' with { type: 'json' }

/**
 * The package's version, for the OpenAPI document and the traces' resource.
 * The build (tsup) inlines package.json, so the compiled server carries the
 * version it was built from and reads no file at start.
 */
export const VERSION: string = pkg.version

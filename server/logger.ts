import type { FastifyServerOptions } from 'fastify'

/**
 * Pino options for every log line slotsync writes. Secrets are redacted by
 * path wherever they could appear (request headers, config objects), as a
 * second line of defence: the code itself never logs them.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'apiKey',
  '*.apiKey',
  'adminToken',
  '*.adminToken',
  'partner.apiKey',
  'config.partner.apiKey',
  'config.adminToken',
  'octoApiKeys',
  '*.octoApiKeys',
  'config.octoApiKeys',
]

export function loggerOptions(level: string, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(stream ? { stream } : {}),
  }
}

/** The slice of pino the domain modules log through (pino loggers fit it; tests pass a recorder). */
export interface Logger {
  debug(o: object, m?: string): void
  info(o: object, m?: string): void
  warn(o: object, m?: string): void
  error(o: object, m?: string): void
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }

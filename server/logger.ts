import type { FastifyServerOptions } from 'fastify'
import pretty from 'pino-pretty'

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

/**
 * JSON lines for machines (a file, a pipe, a log collector); readable lines
 * when a person watches a terminal. `pretty` is decided by the caller from
 * process.stdout.isTTY. The pretty stream is synchronous so that the last
 * lines before an exit are not lost.
 */
export function loggerOptions(level: string, stream?: NodeJS.WritableStream, opts: { pretty?: boolean } = {}): FastifyServerOptions['logger'] {
  const out = stream ?? (opts.pretty ? pretty({ sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) : undefined)
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(out ? { stream: out } : {}),
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

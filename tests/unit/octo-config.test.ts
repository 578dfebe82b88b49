import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../server/config.ts'
import { loggerOptions } from '../../server/logger.ts'
import { createKeyCheck } from '../../server/octo/auth.ts'

describe('OCTO_API_KEYS', () => {
  it('unset or blank: the OCTO face is off', () => {
    expect(loadConfig({}).octoApiKeys).toBeUndefined()
    expect(loadConfig({ OCTO_API_KEYS: '' }).octoApiKeys).toBeUndefined()
    expect(loadConfig({ OCTO_API_KEYS: ' , ' }).octoApiKeys).toBeUndefined()
  })

  it('comma-separated, trimmed, without repeats', () => {
    expect(loadConfig({ OCTO_API_KEYS: 'k1, k2 ,k1,' }).octoApiKeys).toEqual(['k1', 'k2'])
  })

  it('refuses a key with a space inside, without echoing the keys', () => {
    let err: unknown
    try {
      loadConfig({ OCTO_API_KEYS: 'good-key, bad key' })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).message).toMatch(/OCTO_API_KEYS/)
    expect((err as Error).message).not.toMatch(/good-key|bad key/)
  })
})

describe('createKeyCheck', () => {
  const check = createKeyCheck(['alpha-key', 'beta-key'])
  it.each([
    ['Bearer alpha-key', true],
    ['bearer beta-key', true],
    ['Bearer  alpha-key ', true],
    ['Bearer alpha-keyx', false],
    ['Bearer alpha', false],
    ['Basic alpha-key', false],
    ['alpha-key', false],
    ['Bearer ', false],
    ['Bearer alpha-key beta-key', false],
  ])('%j → %s', (header, ok) => {
    expect(check.accepts(header)).toBe(ok)
  })
  it('no header → false; no keys at all is a programming error', () => {
    expect(check.accepts(undefined)).toBe(false)
    expect(() => createKeyCheck([])).toThrow()
  })
  it('keeps no key in clear text', () => {
    expect(JSON.stringify(check)).not.toContain('alpha')
  })
})

describe('log redaction, the second line of defence', () => {
  it('a config object logged by mistake does not show the OCTO keys', async () => {
    const lines: string[] = []
    const stream = new Writable({
      write: (c, _e, done) => {
        lines.push(String(c))
        done()
      },
    })
    const app = Fastify({ logger: loggerOptions('info', stream) })
    const config = loadConfig({ OCTO_API_KEYS: 'redact-me-1,redact-me-2' })
    app.log.info({ config }, 'config')
    app.log.info({ octoApiKeys: config.octoApiKeys }, 'keys')
    await app.close()
    expect(lines.join('')).toContain('[redacted]')
    expect(lines.join('')).not.toContain('redact-me')
  })
})

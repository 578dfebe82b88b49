import type { FastifyError } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import type { ZodError } from 'zod'
import { BadRequestError } from '../errors.ts'

/**
 * The one place a zod issue becomes the contract's error
 * `{ error: { code: 'BAD_REQUEST', message: '<field>: <why>', field } }`,
 * for both faces. The words come from the schemas (schemas.ts); this only
 * decides which field to name, from the issue's path and where the input came from:
 *
 * - tRPC: the procedure's input, the path as is (`productIds.1`), `input` for the whole of it;
 * - REST body: the same, `body` for the whole of it;
 * - REST path, query string, headers: the parameter itself (`id`, `date`,
 *   `productId` however often it repeats), a header as its standard spelling.
 */
export type InputPart = 'input' | 'body' | 'params' | 'querystring' | 'headers'

export interface Issue {
  readonly code: string
  readonly path: readonly PropertyKey[]
  readonly message: string
  /** unrecognized_keys: the keys nobody asked for. */
  readonly keys?: readonly string[]
}

// Header names are case-insensitive and arrive lower-cased; errors spell them as their specification does.
const HEADER_SPELLING: Record<string, string> = { 'last-event-id': 'Last-Event-ID' }

export function fieldOf(issue: Issue, part: InputPart): string {
  // An unknown key is named itself, not the object that holds it.
  const path = issue.code === 'unrecognized_keys' && issue.keys?.[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path
  if (part === 'input' || part === 'body') return path.map(String).join('.') || part
  const name = String(path[0] ?? part)
  return part === 'headers' ? (HEADER_SPELLING[name] ?? name) : name
}

export function issueToError(issue: Issue, part: InputPart): BadRequestError {
  return new BadRequestError(fieldOf(issue, part), issue.message)
}

/** A procedure's input error (tRPC, or a REST route's input the route itself did not check). */
export function fromZodError(err: ZodError): BadRequestError {
  const issue = err.issues[0]
  return issue ? issueToError(issue, 'input') : new BadRequestError('input', 'is invalid')
}

/**
 * A REST route's validation failure, as fastify-type-provider-zod's
 * validatorCompiler reports it to Fastify: each issue's path joined into
 * `instancePath` (`/productIds/1`), its code as `keyword`, its other
 * properties (`keys`) as `params`. Undefined for any other error.
 */
export function fromRouteValidation(err: unknown): BadRequestError | undefined {
  if (!hasZodFastifySchemaValidationErrors(err)) return undefined
  const first = err.validation[0]!
  const part = ((err as FastifyError).validationContext ?? 'body') as InputPart
  const path = first.instancePath
    .split('/')
    .slice(1)
    .filter((s) => s !== '')
  const keys = (first.params as { keys?: unknown }).keys
  return issueToError({ code: first.keyword, path, message: first.message ?? 'is invalid', ...(Array.isArray(keys) ? { keys: keys.map(String) } : {}) }, part)
}

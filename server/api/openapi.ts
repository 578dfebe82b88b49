import type { SwaggerOptions } from '@fastify/swagger'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { VERSION } from '../version.ts'
import { errorBodySchema } from './schemas.ts'

/**
 * The OpenAPI 3 document of the REST face, generated from the zod schemas the
 * routes carry (schemas.ts). Only tagged routes are documented: the tRPC
 * endpoints are described by the router's types, not here.
 */
export const swaggerOptions: SwaggerOptions = {
  openapi: {
    openapi: '3.0.3',
    info: {
      title: 'slotsync public API',
      version: VERSION,
      description:
        'Availability of partner experiences from a local copy kept fresh, and sync control for operators. ' +
        'Errors answer `{ "error": { "code", "message" } }`; the message names the field at fault.',
    },
    tags: [
      { name: 'availability', description: 'Public, rate limited per client IP' },
      { name: 'sync', description: 'pause / resume / run need `Authorization: Bearer <ADMIN_TOKEN>`' },
      { name: 'products', description: 'Catalogue management; every route needs `Authorization: Bearer <ADMIN_TOKEN>`' },
      { name: 'health', description: 'Probes; not rate limited' },
      {
        name: 'octo',
        description:
          'OCTO standard (read-only: supplier, products, availability); on when OCTO_API_KEYS is set; `Authorization: Bearer <key>`; errors answer OCTO\'s `{ "error", "errorMessage" }`',
      },
    ],
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
        octoBearer: { type: 'http', scheme: 'bearer', description: 'One of OCTO_API_KEYS' },
      },
    },
  },
  hideUntagged: true,
  transform: jsonSchemaTransform,
  transformObject: (doc) => tidy(jsonSchemaTransformObject(doc) as OpenApiDoc),
}

interface OpenApiDoc {
  paths?: Record<string, Record<string, { requestBody?: { required?: boolean }; responses?: Record<string, unknown> }>>
  components?: { schemas?: Record<string, unknown> }
}

// Sync-control bodies are optional (none means everything), which fastify-swagger cannot say.
const OPTIONAL_BODY = /^\/api\/v1\/sync\//

function tidy(doc: OpenApiDoc): OpenApiDoc {
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    if (!OPTIONAL_BODY.test(path)) continue
    for (const op of Object.values(ops)) if (op.requestBody) op.requestBody.required = false
  }
  const changes = doc.paths?.['/api/v1/changes']?.get
  if (changes) {
    changes.responses = { 200: CHANGE_STREAM, ...changes.responses }
    doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, ChangeStreamMessage: CHANGE_STREAM_MESSAGE } }
  }
  // Every registered schema gets an "…Input" twin; ours are outputs only, so drop the unused twins.
  const schemas = doc.components?.schemas
  if (schemas) {
    const text = JSON.stringify({
      ...doc,
      components: { ...doc.components, schemas: Object.fromEntries(Object.entries(schemas).filter(([k]) => !k.endsWith('Input'))) },
    })
    for (const name of Object.keys(schemas)) if (name.endsWith('Input') && !text.includes(`"#/components/schemas/${name}"`)) delete schemas[name]
  }
  return doc
}

/**
 * `GET /api/v1/changes` answers Server-Sent Events. OpenAPI 3.0 has no words
 * for a stream of messages, so the medium type says it and the schema
 * describes one message: its `event` name (what EventSource's
 * addEventListener needs: `onmessage` only sees unnamed events), `id` and
 * the JSON in `data`. Its fields come from server/changes/event.ts
 * (sseMessage) and rest-changes.ts; tests/integration/openapi.test.ts reads a
 * real stream against this.
 */
const CHANGE_STREAM_MESSAGE = {
  type: 'object',
  description:
    'One message of the text/event-stream: `id: <id>`, `event: change`, `data: <ChangeEvent as JSON>`, then a blank line. ' +
    'The stream opens with `retry: 2000` and a `: connected` comment; a `: ping` comment comes every 15 s. ' +
    'Listen with `eventSource.addEventListener("change", ...)`; a reconnecting EventSource sends Last-Event-ID and resumes after it.',
  required: ['id', 'event', 'data'],
  properties: {
    id: { type: 'string', description: "The event's id (ChangeEvent.id as text)", example: '1042' },
    event: { type: 'string', enum: ['change'], description: 'The only event name sent' },
    data: { $ref: '#/components/schemas/ChangeEvent' },
  },
}

const CHANGE_STREAM = {
  description: 'A stream of Server-Sent Events, one `change` event per stored day whose data changed',
  content: { 'text/event-stream': { schema: { $ref: '#/components/schemas/ChangeStreamMessage' } } },
}

const ERROR_MEANING: Record<number, string> = {
  400: 'Bad input; the message names the field',
  401: 'Missing or wrong admin bearer token',
  404: 'Unknown product',
  429: 'Rate limited; see Retry-After',
  503: 'Database unavailable; retry shortly',
}

/** Response entries with a description, for a route's `schema.response`. */
export function responses(ok: z.ZodType, ...errorCodes: number[]): Record<number, unknown> {
  return { 200: { description: 'OK', content: { 'application/json': { schema: ok } } }, ...errorResponses(...errorCodes) }
}

/** The error answers alone, in the contract's error shape. */
export function errorResponses(...errorCodes: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {}
  for (const code of errorCodes) out[code] = { description: ERROR_MEANING[code] ?? 'Error', content: { 'application/json': { schema: errorBodySchema } } }
  return out
}

import { absentBodyIsEmpty } from './optional-body.js'

interface Parameter { required?: boolean; schema?: { default?: unknown } }
interface BodySchema { required?: string[]; properties?: Record<string, { default?: unknown }> }
interface Operation {
  parameters?: Parameter[]
  requestBody?: { required?: boolean; content?: Record<string, { schema?: BodySchema }> }
}

/**
 * What a client must send, as the server sees it. The route schemas list a
 * field with a default as required, since Ajv fills it in before the handler
 * runs; and @fastify/swagger marks every request body required. A client
 * generated from that document would have to send `wait`, `limit` and
 * `timeout`, and a body even where none is needed. This corrects the
 * document: a parameter or body field with a default is optional, and so
 * is the body of a route whose absent body counts as `{}`.
 */
export function createRequirementFixes () {
  const optionalBodies = new Set<string>()
  return {
    /** For @fastify/swagger's per-route transform: notes the routes whose body may be left out. */
    noteRoute (route: { method: string | string[]; url: string; preValidation?: unknown }): void {
      const hooks = [route.preValidation].flat()
      if (!hooks.includes(absentBodyIsEmpty)) return
      // The document's path: /targets/{name}, not /targets/:name.
      const url = route.url.replace(/:(\w+)/g, '{$1}')
      for (const method of [route.method].flat()) optionalBodies.add(`${method.toLowerCase()} ${url}`)
    },
    /** For the finished document's paths. */
    apply (paths: Record<string, Record<string, Operation>>): void {
      for (const [url, methods] of Object.entries(paths)) {
        for (const [method, op] of Object.entries(methods)) {
          for (const p of op.parameters ?? []) if (p.schema?.default !== undefined) p.required = false
          for (const media of Object.values(op.requestBody?.content ?? {})) withDefaultsOptional(media.schema)
          if (op.requestBody !== undefined && optionalBodies.has(`${method} ${url}`)) op.requestBody.required = false
        }
      }
    },
  }
}

function withDefaultsOptional (schema: BodySchema | undefined): void {
  if (schema?.required === undefined) return
  schema.required = schema.required.filter((name) => schema.properties?.[name]?.default === undefined)
  if (schema.required.length === 0) delete schema.required
}

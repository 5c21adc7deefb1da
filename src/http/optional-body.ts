import type { FastifyRequest } from 'fastify'

/**
 * The preValidation hook of a POST whose body is optional: none counts as
 * `{}`, which the schema's defaults then fill, so a bare `curl -X POST`
 * means "all targets" (and a flush's default timeout).
 */
export async function absentBodyIsEmpty (request: FastifyRequest): Promise<void> {
  request.body ??= {}
}

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCodes, isSyncplaneError, type ErrorCode } from '../errors.js'
import { withHttpHint } from '../error-hints.js'

export interface ProblemBody {
  type: string
  title: string
  status: number
  detail: string
  code: string
  errors?: Array<{ in: string; path: string; message: string }>
}

const PROBLEM_BASE = 'https://syncplane.dev/problems/'

export function problem (code: ErrorCode, detail: string, extra: Partial<ProblemBody> = {}): ProblemBody {
  const { status, title } = ErrorCodes[code]
  return { type: PROBLEM_BASE + code.toLowerCase().replace(/_/g, '-'), title, status, detail, code, ...extra }
}

export function sendProblem (reply: FastifyReply, body: ProblemBody): FastifyReply {
  return reply.code(body.status).type('application/problem+json').send(body)
}

/**
 * The one place errors become HTTP answers. Known errors keep their code and
 * message, plus the hint for their code; anything else is logged and answered with a bare 500 so no stack
 * trace or internal path leaks.
 */
export function errorHandler (err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isSyncplaneError(err)) {
    return sendProblem(reply, problem(err.code, withHttpHint(err.code, err.message)))
  }
  if (err.validation) {
    const where = err.validationContext ?? 'request'
    const errors = err.validation.map((v) => ({
      in: where,
      path: v.instancePath === '' ? '/' : v.instancePath,
      message: describeValidation(v.message, v.params),
    }))
    const detail = errors.map((e) => `${where}${e.path === '/' ? '' : e.path}: ${e.message}`).join('; ')
    return sendProblem(reply, problem('VALIDATION_FAILED', detail, { errors }))
  }
  const status = err.statusCode ?? 500
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return sendProblem(reply, problem('URI_TOO_LONG', 'a path parameter is longer than this server accepts'))
  }
  if (status >= 400 && status < 500) {
    const code: ErrorCode = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST'
    return sendProblem(reply, { ...problem(code, err.message.slice(0, 500)), status })
  }
  request.log.error({ err }, 'request failed')
  return sendProblem(reply, problem('INTERNAL', 'The server failed to answer this request; the error was logged.'))
}

function describeValidation (message: string | undefined, params: Record<string, unknown>): string {
  const extra = params.additionalProperty ?? (Array.isArray(params.additionalProperties) ? params.additionalProperties.join(', ') : undefined)
  if (extra !== undefined) return `unknown property "${String(extra)}"`
  if (Array.isArray(params.allowedValues)) return `must be one of: ${params.allowedValues.join(', ')}`
  return message ?? 'is invalid'
}

export function notFoundHandler (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, problem('NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0] ?? ''}`))
}

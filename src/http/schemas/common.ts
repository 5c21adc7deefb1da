import { Type } from 'typebox'

/** RFC 9457 problem details: the one shape of every 4xx and 5xx answer. */
export const Problem = Type.Object({
  type: Type.String({ description: 'A URI naming the kind of problem', examples: ['https://syncplane.dev/problems/validation-failed'] }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String({ description: 'Stable machine-readable error code' }),
  errors: Type.Optional(Type.Array(Type.Object({
    in: Type.String({ description: 'body, querystring, params or headers' }),
    path: Type.String({ description: 'JSON pointer to the offending field' }),
    message: Type.String(),
  }), { description: 'Validation failures, one per invalid field' })),
}, { $id: 'Problem', title: 'Problem' })

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Type.Ref('Problem') } },
})

/** Declared on every route, so the document says what every failure looks like. */
export const problemResponses = {
  '4xx': problemResponse('The request was invalid (RFC 9457 problem details)'),
  '5xx': problemResponse('The server failed (RFC 9457 problem details)'),
} as const

export const Timestamp = Type.String({ format: 'date-time' })
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()])

import { Type, type Static, type TSchema, type TUnsafe } from 'typebox'

/** A schema published under its name in the OpenAPI document's components.schemas. */
export type Component<T extends TSchema = TSchema> = T & { readonly $id: string; readonly title: string }

/**
 * Names a schema as a component: its `$id` (what app.addSchema registers and
 * a reference points at) and its title are the name. Every component is
 * listed in components.ts.
 */
export function component<T extends TSchema> (name: string, schema: T): Component<T> {
  return Object.assign(schema, { $id: name, title: name })
}

/**
 * A reference to a component. The OpenAPI document then says
 * `$ref: '#/components/schemas/<name>'` instead of an inline copy, so a
 * generated client has one type per component, and the route still gets the
 * schema's static type (a bare Type.Ref has none).
 */
export function ref<T extends TSchema> (schema: Component<T>): TUnsafe<Static<T>> {
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id))
}

/** RFC 9457 problem details: the one shape of every 4xx and 5xx answer. */
export const Problem = component('Problem', Type.Object({
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
}))

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref(Problem) } },
})

/** Declared on every route, so the document says what every failure looks like. */
export const problemResponses = {
  '4xx': problemResponse('The request was invalid (RFC 9457 problem details)'),
  '5xx': problemResponse('The server failed (RFC 9457 problem details)'),
} as const

export const Timestamp = Type.String({ format: 'date-time' })
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()])

import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'
import type { Static } from 'typebox'
import { ConfigError } from '../errors.js'
import { ConfigSchema } from './schema.js'
import { schemaProblems } from './schema-errors.js'

const validator = Compile(ConfigSchema)

/** The document as the schema describes it, every default filled in; a copy, the input is left alone. */
export type ValidatedConfig = Static<typeof ConfigSchema>

/** The schema's verdict on a parsed document: every violation at once, each naming its key. */
export function validate (raw: unknown, origin: string): ValidatedConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(origin, ['the document must be a mapping of keys (source, targets, …)'])
  }
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw))
  if (!validator.Check(withDefaults)) {
    throw new ConfigError(origin, schemaProblems(validator, withDefaults))
  }
  return withDefaults
}

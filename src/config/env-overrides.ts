import { ConfigError } from '../errors.js'
import { LOG_LEVELS } from './schema.js'

type Env = Record<string, string | undefined>

/**
 * The keys a deployment may set from the environment instead of the file
 * (a container's `-e`, a unit's Environment=): where the API listens and
 * how much is logged. Set and not empty, a variable wins over the file, at
 * start and on every reload.
 */
export const ENV_OVERRIDES = {
  SYNCPLANE_API_HOST: { key: 'api.host', expects: 'an address', parse: (v: string) => v },
  SYNCPLANE_API_PORT: { key: 'api.port', expects: 'an integer from 0 to 65535', parse: parsePort },
  SYNCPLANE_LOG_LEVEL: { key: 'logLevel', expects: `one of ${LOG_LEVELS.join(', ')}`, parse: parseLogLevel },
} as const satisfies Record<string, { key: string, expects: string, parse: (value: string) => unknown }>

/**
 * A copy of the document with the environment's values in place, before
 * the schema sees it. A value the key cannot take stops the load at once,
 * naming the variable rather than the key it stands for.
 */
export function applyEnvOverrides (raw: unknown, env: Env, origin: string): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw
  const doc = structuredClone(raw) as Record<string, unknown>
  const problems: string[] = []
  for (const [name, { key, expects, parse }] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name]
    if (value === undefined || value === '') continue
    const parsed = parse(value)
    if (parsed === undefined) {
      problems.push(`${name}: "${value}" is not ${expects} (it stands for ${key})`)
      continue
    }
    const [section, field] = key.split('.')
    if (field === undefined) doc[section!] = parsed
    else {
      const current = doc[section!]
      doc[section!] = { ...(current !== null && typeof current === 'object' ? current : {}), [field]: parsed }
    }
  }
  if (problems.length > 0) throw new ConfigError(origin, problems)
  return doc
}

function parsePort (value: string): number | undefined {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN
  return port <= 65535 ? port : undefined
}

function parseLogLevel (value: string): string | undefined {
  return (LOG_LEVELS as readonly string[]).includes(value) ? value : undefined
}

import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { ConfigError } from '../errors.js'
import { demoConfig, readConfigFile } from './read.js'
import { validate } from './validate.js'
import { normalize } from './normalize.js'
import { checkConfig } from './checks.js'
import { readSecrets } from './secrets.js'
import { createProblems } from './problems.js'
import { readMesh, type MeshSettings } from './mesh.js'
import { applyEnvOverrides } from './env-overrides.js'
import type { Config } from './schema.js'

export { ConfigError }
export { demoConfig } from './read.js'

export interface LoadedConfig {
  readonly config: Readonly<Config>
  /** rsync daemon passwords by target name; kept apart so the config itself can be logged and served. */
  readonly secrets: ReadonlyMap<string, string>
  /** The bearer token the API requires, if any. */
  readonly apiToken: string | undefined
  /** This node's place in the mesh and the mesh's secrets, when a mesh is configured. */
  readonly mesh?: MeshSettings | undefined
}

interface LoadOptions {
  env: Record<string, string | undefined>
  /** Relative `database`, `passwordFile`, `tokenFile` and ssh file paths are resolved against this directory. */
  baseDir: string
  /** Named in error messages. */
  origin: string
}

export function loadConfigFile (file: string, env: Record<string, string | undefined>): LoadedConfig {
  return parseConfig(readConfigFile(file), { env, baseDir: path.dirname(path.resolve(file)), origin: file })
}

/**
 * What `serve` runs, and so what `check` checks: the file, or without one
 * the embedded demo under `cwd`, whose source and replica are made first
 * (the demo promises to work on an empty directory). One function for both,
 * so check can never pass a configuration serve refuses, or word it otherwise.
 */
export function loadServiceConfig (configPath: string | undefined, env: Record<string, string | undefined>, cwd: string): LoadedConfig {
  if (configPath !== undefined) return loadConfigFile(configPath, env)
  const raw = demoConfig(cwd)
  mkdirSync(raw.source as string, { recursive: true })
  mkdirSync((raw.targets as Array<{ url: string }>)[0]!.url, { recursive: true })
  return parseConfig(raw, { env, baseDir: cwd, origin: 'the embedded demo config' })
}

/**
 * read → environment overrides → validate → normalize → check → secrets →
 * freeze. A bad override and the schema's violations stop at once; every
 * later problem is collected, so an operator fixes the file in one pass.
 */
export function parseConfig (raw: unknown, opts: LoadOptions): LoadedConfig {
  const normalized = normalize(validate(applyEnvOverrides(raw, opts.env, opts.origin), opts.origin), opts.baseDir)
  const problems = createProblems(normalized.targets.length)
  checkConfig(normalized, problems)
  const { config, secrets, apiToken } = readSecrets(normalized, opts, problems)
  const mesh = readMesh(config, opts, problems)
  if (problems.list().length > 0) throw new ConfigError(opts.origin, problems.list())
  const { secret: _secret, ...meshConfig } = config.mesh ?? {}
  return { config: deepFreeze(config.mesh === undefined ? config : { ...config, mesh: meshConfig as Config['mesh'] }), secrets, apiToken, mesh }
}

function deepFreeze<T> (value: T): Readonly<T> {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

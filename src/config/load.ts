import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'
import type { Static } from 'typebox'
import { ConfigSchema, type Config } from './schema.js'
import { ConfigError, TargetUrlError } from '../errors.js'
import { parseTargetUrl } from './target-url.js'

/** ssh options that syncplane's own handling depends on, so ssh.options may not change them. */
const MANAGED_SSH_OPTIONS: ReadonlySet<string> = new Set(['batchmode', 'controlmaster', 'controlpath', 'controlpersist'])

export interface LoadedConfig {
  readonly config: Readonly<Config>
  /** rsync daemon passwords by target name; kept apart so the config itself can be logged and served. */
  readonly secrets: ReadonlyMap<string, string>
  /** The bearer token the API requires, if any. */
  readonly apiToken: string | undefined
}

export { ConfigError }

const validator = Compile(ConfigSchema)

interface LoadOptions {
  env: Record<string, string | undefined>
  /** Relative `database` and `passwordFile` paths are resolved against this directory. */
  baseDir: string
  /** Named in error messages. */
  origin: string
}

export function loadConfigFile (file: string, env: Record<string, string | undefined>): LoadedConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`])
  }
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : ''
    throw new ConfigError(file, [`not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`])
  }
  return parseConfig(raw, { env, baseDir: path.dirname(path.resolve(file)), origin: file })
}

/** The embedded default of `npm start` without --config: a local demo source and replica under ./data. */
export function demoConfig (cwd: string): Record<string, unknown> {
  const data = path.join(cwd, 'data')
  return {
    source: path.join(data, 'source'),
    database: path.join(data, 'syncplane.db'),
    targets: [{ name: 'replica', url: `${path.join(data, 'replica')}/` }],
  }
}

export function parseConfig (raw: unknown, opts: LoadOptions): LoadedConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(opts.origin, ['the document must be a mapping of keys (source, targets, …)'])
  }
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw))
  if (!validator.Check(withDefaults)) {
    throw new ConfigError(opts.origin, schemaProblems(withDefaults))
  }
  const config = normalizeSource(withDefaults as Static<typeof ConfigSchema>)
  config.database = path.resolve(opts.baseDir, config.database)
  const problems: string[] = []
  const secrets = new Map<string, string>()
  checkSource(config, problems)
  checkTargets(config, opts, problems, secrets)
  if (config.watcher.usePolling && config.watcher.backend !== 'chokidar') {
    problems.push(`watcher.usePolling: polling needs watcher.backend: chokidar (the backend is "${config.watcher.backend}")`)
  }
  const apiToken = resolveApiToken(config, opts, problems)
  if (config.retry.maxDelayMs < config.retry.initialDelayMs) {
    problems.push('retry.maxDelayMs: must not be smaller than retry.initialDelayMs')
  }
  if (problems.length > 0) throw new ConfigError(opts.origin, problems)
  return { config: deepFreeze(config), secrets, apiToken }
}

const TOKEN_ENV = 'SYNCPLANE_API_TOKEN'

function resolveApiToken (config: Config, opts: LoadOptions, problems: string[]): string | undefined {
  const { api } = config
  if (api.token !== undefined && api.tokenFile !== undefined) problems.push('api: set token or tokenFile, not both')
  let token = api.token
  if (api.tokenFile !== undefined) {
    const file = path.resolve(opts.baseDir, api.tokenFile)
    try {
      token = readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? ''
      if (token.length < 16) problems.push(`api.tokenFile: the token in "${file}" is shorter than 16 characters`)
    } catch (err) {
      problems.push(`api.tokenFile: cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }
  const fromEnv = opts.env[TOKEN_ENV]
  if (token === undefined && fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 16) problems.push(`${TOKEN_ENV}: the token is shorter than 16 characters`)
    token = fromEnv
  }
  // The token never stays in the config object, which may be logged or served.
  delete api.token
  if (token === undefined && !api.allowUnauthenticated && !isLoopback(api.host)) {
    problems.push(`api.host: "${api.host}" is reachable from other machines but the API has no token; set api.token, api.tokenFile or ${TOKEN_ENV}, or api.allowUnauthenticated: true if that is really meant`)
  }
  return token
}

function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

function schemaProblems (value: unknown): string[] {
  const seen = new Set<string>()
  const problems: Array<{ key: string, line: string, keyword: string }> = []
  const unions = new Set<string>()
  for (const error of validator.Errors(value)) {
    const key = pointerToKey(error.instancePath)
    let message: string
    if (error.keyword === 'anyOf') {
      unions.add(key)
      continue
    }
    if (error.keyword === 'boolean') message = 'unknown key'
    else if (error.keyword === 'additionalProperties') continue
    else if (error.keyword === 'required') {
      const missing = (error.params as { requiredProperties?: string[] }).requiredProperties ?? []
      for (const name of missing) add(key ? `${key}.${name}` : name, 'is required')
      continue
    } else if (error.keyword === 'enum') {
      message = `must be one of: ${((error.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')}`
    } else message = error.message
    add(key || '(root)', message, error.keyword)
  }
  // `source` is a path or a mapping: say which problem the given form has, not what each form wanted.
  for (const key of unions) {
    const own = problems.filter((p) => !(p.key === key && p.keyword === 'type'))
    if (!own.some((p) => p.key === key || p.key.startsWith(`${key}.`))) own.push({ key, line: `${key}: must be a path or a mapping with path (and marker)`, keyword: 'anyOf' })
    problems.splice(0, problems.length, ...own)
  }
  return problems.map((p) => p.line)

  function add (key: string, message: string, keyword = ''): void {
    const line = `${key}: ${message}`
    if (!seen.has(line)) {
      seen.add(line)
      problems.push({ key, line, keyword })
    }
  }
}

/** `/targets/0/url` → `targets[0].url`: the spelling an operator searches the YAML for. */
function pointerToKey (pointer: string): string {
  return pointer.split('/').slice(1).reduce((acc, part) => {
    const name = part.replace(/~1/g, '/').replace(/~0/g, '~')
    return /^\d+$/.test(name) ? `${acc}[${name}]` : acc ? `${acc}.${name}` : name
  }, '')
}

/** `source: PATH` and `source: { path, marker }` become one shape. */
function normalizeSource (raw: Static<typeof ConfigSchema>): Config {
  const { source, ...rest } = raw
  return typeof source === 'string'
    ? { ...rest, source, sourceMarker: null }
    : { ...rest, source: source.path, sourceMarker: source.marker ?? null }
}

function checkSource (config: Config, problems: string[]): void {
  if (!path.isAbsolute(config.source)) {
    problems.push(`source: must be an absolute path, got "${config.source}"`)
    return
  }
  config.source = path.normalize(config.source).replace(/(.)\/$/, '$1')
  try {
    if (!statSync(config.source).isDirectory()) problems.push(`source: "${config.source}" is not a directory`)
  } catch {
    problems.push(`source: "${config.source}" does not exist`)
  }
}

function checkTargets (config: Config, opts: LoadOptions, problems: string[], secrets: Map<string, string>): void {
  const names = new Set<string>()
  config.targets.forEach((target, i) => {
    const key = `targets[${i}]`
    if (names.has(target.name)) problems.push(`${key}.name: "${target.name}" is used by another target`)
    names.add(target.name)
    let url
    try {
      url = parseTargetUrl(target.url)
    } catch (err) {
      if (!(err instanceof TargetUrlError)) throw err
      problems.push(`${key}.url: ${err.message}`)
      return
    }
    if (url.kind === 'local') {
      const dest = path.normalize(url.path).replace(/(.)\/$/, '$1')
      if (isInside(dest, config.source) || isInside(config.source, dest)) {
        problems.push(`${key}.url: a local target must not be inside the source or contain it`)
      }
    }
    if (url.kind !== 'daemon' && (target.passwordFile !== undefined || target.passwordEnv !== undefined)) {
      problems.push(`${key}: passwordFile and passwordEnv apply only to rsync daemon targets (rsync://…)`)
    }
    if (url.kind !== 'ssh' && target.ssh !== undefined) {
      problems.push(`${key}.ssh: applies only to SSH targets (host:/path)`)
    }
    if (target.ssh !== undefined) {
      target.ssh.options.forEach((option, j) => {
        const name = /^\s*([A-Za-z]+)/.exec(option)?.[1]?.toLowerCase()
        if (name !== undefined && MANAGED_SSH_OPTIONS.has(name)) {
          problems.push(`${key}.ssh.options[${j}]: ${option.trim()} is set by syncplane (BatchMode=yes; the Control* options share one connection per target: use ssh.controlPersistSec, 0 to turn sharing off)`)
        }
      })
      for (const field of ['identityFile', 'knownHostsFile'] as const) {
        const value = target.ssh[field]
        if (value === undefined) continue
        const file = path.resolve(opts.baseDir, value)
        target.ssh[field] = file
        try {
          readFileSync(file)
        } catch (err) {
          problems.push(`${key}.ssh.${field}: cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
        }
      }
    }
    if (target.passwordFile !== undefined && target.passwordEnv !== undefined) {
      problems.push(`${key}: set passwordFile or passwordEnv, not both`)
      return
    }
    if (target.passwordFile !== undefined) {
      const file = path.resolve(opts.baseDir, target.passwordFile)
      try {
        // rsync's own --password-file format: the first line is the password.
        const password = readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? ''
        if (password === '') problems.push(`${key}.passwordFile: "${file}" is empty`)
        else secrets.set(target.name, password)
      } catch (err) {
        problems.push(`${key}.passwordFile: cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
      }
    }
    if (target.passwordEnv !== undefined) {
      const password = opts.env[target.passwordEnv]
      if (password === undefined || password === '') problems.push(`${key}.passwordEnv: environment variable ${target.passwordEnv} is not set`)
      else secrets.set(target.name, password)
    }
  })
}

function isInside (child: string, parent: string): boolean {
  const rel = path.relative(parent, child)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

function deepFreeze<T> (value: T): Readonly<T> {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

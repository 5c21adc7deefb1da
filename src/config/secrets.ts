import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parseTargetUrl } from './target-url.js'
import { errorCode } from './checks.js'
import { targetSection, type Problems } from './problems.js'
import type { Config } from './schema.js'

const TOKEN_ENV = 'SYNCPLANE_API_TOKEN'

export interface Secrets {
  /** The configuration without the API token, which may be logged or served. */
  config: Config
  /** rsync daemon passwords by target name. */
  secrets: Map<string, string>
  /** The bearer token the API requires, if any. */
  apiToken: string | undefined
}

export interface SecretSources {
  env: Record<string, string | undefined>
  /** A relative api.tokenFile or passwordFile resolves against this directory. */
  baseDir: string
}

/**
 * Reads every secret the configuration names (rsync daemon passwords from a
 * file or the environment, the API token from the config, a file or
 * SYNCPLANE_API_TOKEN) and takes them out of the configuration, which may
 * be logged or served.
 */
export function readSecrets (config: Config, from: SecretSources, problems: Problems): Secrets {
  const secrets = new Map<string, string>()
  config.targets.forEach((target, i) => {
    const password = readPassword(config, i, from, problems)
    if (password !== undefined) secrets.set(target.name, password)
  })
  const apiToken = readApiToken(config, from, problems)
  const { token: _token, ...api } = config.api
  return { config: { ...config, api }, secrets, apiToken }
}

function readPassword (config: Config, i: number, from: SecretSources, problems: Problems): string | undefined {
  const target = config.targets[i]!
  const key = targetSection(i)
  // The checks named what is wrong with these; nothing is read for them.
  if (!parses(target.url) || (target.passwordFile !== undefined && target.passwordEnv !== undefined)) return undefined
  let password: string | undefined
  if (target.passwordFile !== undefined) {
    const file = path.resolve(from.baseDir, target.passwordFile)
    try {
      // rsync's own --password-file format: the first line is the password.
      const first = readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? ''
      if (first === '') problems.add(key, `${key}.passwordFile: "${file}" is empty`)
      else password = first
    } catch (err) {
      problems.add(key, `${key}.passwordFile: cannot read "${file}": ${errorCode(err)}`)
    }
  }
  if (target.passwordEnv !== undefined) {
    const value = from.env[target.passwordEnv]
    if (value === undefined || value === '') problems.add(key, `${key}.passwordEnv: environment variable ${target.passwordEnv} is not set`)
    else password = value
  }
  return password
}

function readApiToken (config: Config, from: SecretSources, problems: Problems): string | undefined {
  const { api } = config
  let token = api.token
  if (api.tokenFile !== undefined) {
    const file = path.resolve(from.baseDir, api.tokenFile)
    try {
      token = readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? ''
      if (token.length < 16) problems.add('api', `api.tokenFile: the token in "${file}" is shorter than 16 characters`)
    } catch (err) {
      problems.add('api', `api.tokenFile: cannot read "${file}": ${errorCode(err)}`)
    }
  }
  const fromEnv = from.env[TOKEN_ENV]
  if (token === undefined && fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 16) problems.add('api', `${TOKEN_ENV}: the token is shorter than 16 characters`)
    token = fromEnv
  }
  if (token === undefined && !api.allowUnauthenticated && !isLoopback(api.host)) {
    problems.add('api', `api.host: "${api.host}" is reachable from other machines but the API has no token; set api.token, api.tokenFile or ${TOKEN_ENV}, or api.allowUnauthenticated: true if that is really meant`)
  }
  return token
}

function parses (url: string): boolean {
  try {
    parseTargetUrl(url)
    return true
  } catch {
    return false
  }
}

function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

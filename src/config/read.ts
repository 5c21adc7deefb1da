import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import { ConfigError } from '../errors.js'

/** The document in a YAML configuration file, not yet validated. */
export function readConfigFile (file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`])
  }
  try {
    return parseYaml(text)
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : ''
    throw new ConfigError(file, [`not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`])
  }
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

import { ConfigError, loadServiceConfig, type LoadedConfig } from '../config/load.js'
import { renderJson, renderTable, worstStatus } from './report.js'
import { CHECK_EXIT, exitCodeOf, forPreStart, result, type CheckResult } from './result.js'
import { runChecks } from './run-checks.js'

export interface CheckCommandOptions {
  /** Without one, the demo `serve` would run. */
  configPath: string | undefined
  env: Record<string, string | undefined>
  cwd: string
  json: boolean
  preStart: boolean
  timeoutSec: number
}

export interface CheckCommandResult {
  exitCode: number
  stdout: string
  stderr: string
}

/**
 * `syncplane check`: the configuration read as serve reads it (an invalid
 * one says the same words on stderr and exits 2, as serve does), then what
 * would fail once it runs.
 */
export async function checkCommand (opts: CheckCommandOptions): Promise<CheckCommandResult> {
  const subject = opts.configPath ?? 'the embedded demo config'
  let loaded: LoadedConfig
  try {
    loaded = loadServiceConfig(opts.configPath, opts.env, opts.cwd)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    const checks = [result('config', subject).fail(err.problems.join('; '))]
    const stdout = opts.json ? renderJson({ status: 'FAIL', exitCode: CHECK_EXIT.configInvalid, preStart: opts.preStart, checks }) : ''
    return { exitCode: CHECK_EXIT.configInvalid, stdout, stderr: `syncplane: ${err.message}\n` }
  }
  const found = [result('config', subject).ok(describe(loaded)), ...await runChecks(loaded, { env: opts.env, timeoutSec: opts.timeoutSec })]
  const checks: CheckResult[] = opts.preStart ? forPreStart(found) : found
  const report = { status: worstStatus(checks), exitCode: exitCodeOf(checks), preStart: opts.preStart, checks }
  return { exitCode: report.exitCode, stdout: opts.json ? renderJson(report) : renderTable(report), stderr: '' }
}

function describe ({ config, mesh }: LoadedConfig): string {
  const targets = `${config.targets.length} target${config.targets.length === 1 ? '' : 's'}`
  return mesh === undefined ? `valid: ${targets}` : `valid: ${targets}, a mesh of ${config.mesh?.peers.length ?? 0} peers, this node ${mesh.self}`
}

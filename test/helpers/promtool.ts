import { execa } from 'execa'

export interface PromtoolResult { exitCode: number, output: string }

/** Runs Prometheus's promtool; never rejects on a failed check, so a test can show what it said. */
export async function promtool (args: readonly string[], opts: { input?: string, cwd?: string } = {}): Promise<PromtoolResult> {
  const res = await execa('promtool', args, { reject: false, all: true, input: opts.input ?? '', cwd: opts.cwd, timeout: 60_000 })
  return { exitCode: res.exitCode ?? -1, output: res.all ?? '' }
}

/** Why promtool cannot run here, or undefined when it can (CI installs it: .ci/run). */
export async function promtoolSkipReason (): Promise<string | undefined> {
  const res = await execa('promtool', ['--version'], { reject: false })
  return res.exitCode === 0 ? undefined : 'promtool is not installed (apt-get install prometheus)'
}

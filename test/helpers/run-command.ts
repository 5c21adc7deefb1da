import { spawn } from 'node:child_process'

export interface RunResult {
  /** Exit code, or null if the process was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Data for stdin; stdin is /dev/null otherwise. */
  input?: string | Buffer;
  /** SIGKILL the process after this long; default 60000 ms. */
  timeoutMs?: number;
}

/**
 * Runs a command to completion without a shell (arguments are passed
 * verbatim, so hostile file names need no quoting) and never rejects on a
 * non-zero exit: tests assert on the exit code themselves, e.g. rsync's 5
 * for an authentication failure.
 */
export function runCommand (
  command: string,
  args: readonly string[],
  opts: RunOptions = {}
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk))
    // A hung command must not hang the test run.
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      })
    })
    if (opts.input !== undefined) child.stdin?.end(opts.input)
  })
}

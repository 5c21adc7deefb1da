import type { TargetUrl } from '../config/target-url.js'

export interface SshSettings {
  port?: number | undefined
  identityFile?: string | undefined
  knownHostsFile?: string | undefined
  options: readonly string[]
  /** The runs share one connection through this control socket (see ssh-connections). */
  control?: { readonly path: string, readonly persistSec: number } | undefined
}

export interface RsyncTarget {
  parsed: TargetUrl
  ssh?: SshSettings | undefined
}

export interface RsyncCommonOptions {
  source: string
  excludes: readonly string[]
  ioTimeoutSec: number
  connectTimeoutSec: number
  extraArgs: readonly string[]
}

/**
 * One incremental batch: the listed paths (NUL-separated on stdin) and
 * nothing else. Each flag answers a case the watcher produces:
 * - `-r`: `--files-from` turns off the recursion `-a` implies, but a listed
 *   directory is a new or moved-in tree whose whole content must go;
 * - `--ignore-times`: the watcher saw a change, so send it even when size and
 *   mtime look equal (a same-size rewrite within the same second);
 * - `--delete-missing-args --force`: a listed path gone from the source is
 *   deleted on the target, a non-empty directory included (without `--force`
 *   rsync keeps it and still exits 0);
 * - `--delete`: inside a listed directory, remove what the source no longer
 *   has (rsync only deletes in directories whose full content it sends, so
 *   unlisted siblings are never touched).
 *
 * `small`: the run's data fits in the socket buffers (see isSmallRun), so
 * the client never waits long to write and needs no keepalive from a daemon.
 */
export function buildIncrementalArgs (target: RsyncTarget, opts: RsyncCommonOptions, run: RunShape & { small: boolean } = { small: false }): string[] {
  return [
    '-a', '-r', '--ignore-times',
    '--files-from=-', '--from0',
    '--delete', '--delete-missing-args', '--force',
    ...deletionArgs(run),
    // A daemon given a timeout announces it in an 8-byte message that Nagle
    // holds back, and the next write waits for the client's delayed ACK: 40 ms
    // on every run, measured. Only a small run goes without it: the daemon
    // then sends no keepalives, which a client blocked writing a large run
    // through a stalled receiver needs, while a client waiting to read sends
    // its own. A timeout in the daemon's module still applies (the daemon
    // takes the smaller non-zero one).
    ...(target.parsed.kind === 'daemon' && run.small ? ['-M--timeout=0'] : []),
    ...commonArgs(target, opts),
    sourceArg(opts.source), target.parsed.destination,
  ]
}

/**
 * How a run treats deletions (see the delete guard in src/sync):
 * - `maxDelete`: `--max-delete=N`; 0 sends everything and deletes nothing,
 *   while rsync counts what it would have deleted (files inside a deleted
 *   directory included). Absent: no limit.
 * - `deletionsOnly`: the second pass of a run whose deletions were counted:
 *   `--existing --ignore-existing` transfer nothing, `--delete` still acts.
 */
export interface RunShape {
  maxDelete?: number | undefined
  deletionsOnly?: boolean | undefined
}

function deletionArgs (run: RunShape): string[] {
  const args = run.maxDelete === undefined ? [] : [`--max-delete=${run.maxDelete}`]
  if (run.deletionsOnly === true) args.push('--existing', '--ignore-existing')
  return args
}

export type FullCompare = 'mtime-ns' | 'mtime' | 'checksum'

/**
 * The whole tree, mirrored: `SRC/ DEST/` keeps `--delete` inside the target
 * directory. rsync's default quick check compares whole seconds, so a file
 * changed on the target within the second it was written looks unchanged;
 * `--modify-window=-1` compares nanoseconds instead.
 */
export function buildFullArgs (target: RsyncTarget, opts: RsyncCommonOptions & { compare: FullCompare }, run: RunShape = {}): string[] {
  const compare = { 'mtime-ns': ['--modify-window=-1'], mtime: [], checksum: ['--checksum'] }[opts.compare]
  return [
    '-a', '--delete',
    ...deletionArgs(run),
    ...compare,
    ...commonArgs(target, opts),
    sourceArg(opts.source), target.parsed.destination,
  ]
}

/**
 * The mesh: the listed files (NUL-separated on stdin) into a staging
 * directory on the peer, from which the peer itself moves each into place.
 * Never `--delete`: a mesh deletion travels as a manifest entry, so no rsync
 * run between peers can remove anything. `--mkpath` makes the staging path.
 * `--ignore-missing-args`: a listed file deleted (or its directory renamed)
 * since it was listed is left out instead of failing the whole batch with
 * exit 23 (under churn some file always is); the peer answers `retry` for
 * it and the next scan finds the deletion. `--inplace`: each batch has a
 * staging directory of its own, so there is nothing to replace, and a file
 * written where it lands spares the rename from a temporary name (half the
 * receiving rsync's system time for 10,000 files of 4 KiB on ext4, measured).
 * A run cut short leaves partial files there, but its manifest is never sent
 * (only after exit 0 or 24) and the peer discards the directory.
 */
export function buildStagingArgs (target: RsyncTarget, opts: RsyncCommonOptions, stagingPath: string, run: { small: boolean } = { small: false }): string[] {
  return [
    '-a', '--files-from=-', '--from0', '--mkpath', '--ignore-missing-args', '--inplace', '--no-human-readable',
    // As in buildIncrementalArgs: a small run spares the daemon's timeout announcement and its 40 ms.
    ...(target.parsed.kind === 'daemon' && run.small ? ['-M--timeout=0'] : []),
    ...transportArgs(target, opts), ...opts.extraArgs,
    sourceArg(opts.source), `${target.parsed.destination}${stagingPath}/`,
  ]
}

/** Marks the stdout lines of a preview: rsync's itemized change, a space, the name. */
export const PREVIEW_LINE_PREFIX = 'syncplane-item: '

/** What a full mirror would do, changing nothing: `-n` with every item itemized on stdout. */
export function buildPreviewArgs (target: RsyncTarget, opts: RsyncCommonOptions & { compare: FullCompare }): string[] {
  const args = buildFullArgs(target, opts)
  // The last --out-format wins over the one commonArgs put in.
  return ['-n', ...args.slice(0, -2), `--out-format=${PREVIEW_LINE_PREFIX}%i %n`, ...args.slice(-2)]
}

/** Lists the top level of the target (to tell whether it is empty) without changing it. */
export function buildListArgs (target: RsyncTarget, opts: RsyncCommonOptions): string[] {
  return ['--list-only', '--no-human-readable', ...transportArgs(target, opts), target.parsed.destination]
}

/**
 * Whether a daemon answers, knows the module and takes the password,
 * changing nothing: `--list-only` of `url` (a directory in the module) with
 * everything below it excluded, so a large tree costs one line.
 */
export function buildProbeArgs (target: RsyncTarget, opts: RsyncCommonOptions, url: string): string[] {
  return ['--list-only', '--no-human-readable', '--exclude=/*', ...transportArgs(target, opts), ...opts.extraArgs, url]
}

/** The file list for `--files-from=- --from0`: names may hold any byte but NUL. */
export function encodeFileList (paths: readonly string[]): Buffer {
  return Buffer.from(paths.length === 0 ? '' : `${paths.join('\0')}\0`, 'utf8')
}

function transportArgs (target: RsyncTarget, opts: RsyncCommonOptions): string[] {
  const args = [`--timeout=${opts.ioTimeoutSec}`]
  // rsync leaves Nagle on, and its handshake is small writes that each wait for
  // the daemon's delayed ACK: this alone took a one-file run on loopback from
  // 140 to 55 ms. A --sockopts in extraArgs replaces this one (the last wins).
  if (target.parsed.kind === 'daemon') args.push(`--contimeout=${opts.connectTimeoutSec}`, '--sockopts=TCP_NODELAY')
  if (target.parsed.kind === 'ssh') args.push('-e', buildSshCommand(target.ssh, opts.connectTimeoutSec))
  return args
}

/** Marks the stdout lines naming what a run sent, one per item (see sentNames in the runner). */
export const SENT_LINE_PREFIX = 'syncplane-sent: '

function commonArgs (target: RsyncTarget, opts: RsyncCommonOptions): string[] {
  const args = ['--stats', '--no-human-readable', `--out-format=${SENT_LINE_PREFIX}%n`, ...transportArgs(target, opts)]
  for (const pattern of opts.excludes) args.push(`--exclude=${pattern}`)
  args.push(...opts.extraArgs)
  return args
}

function sourceArg (source: string): string {
  return source.endsWith('/') ? source : `${source}/`
}

/**
 * rsync splits `-e` on spaces and honours single and double quotes (not
 * backslashes), so quote every word that needs it. ssh keeps the first value
 * it gets for an option: the options syncplane depends on come first (the
 * config refuses them in `options`), the user's next, then the defaults they
 * may override.
 */
export function buildSshCommand (ssh: SshSettings | undefined, connectTimeoutSec: number): string {
  return sshWords(ssh, connectTimeoutSec).map(quoteWord).join(' ')
}

/** The ssh command line rsync runs for a target, as argv (`check` logs in with it, so it tries exactly what rsync will). */
export function sshWords (ssh: SshSettings | undefined, connectTimeoutSec: number): string[] {
  const words = ['ssh', '-o', 'BatchMode=yes']
  if (ssh?.control !== undefined) {
    // The first run becomes the master and stays in the background; later
    // runs skip the key exchange and authentication (430 -> 200 ms per small
    // run, measured on loopback).
    words.push(
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${ssh.control.path}`,
      '-o', `ControlPersist=${ssh.control.persistSec}`
    )
  }
  for (const option of ssh?.options ?? []) words.push('-o', option)
  words.push(
    '-o', `ConnectTimeout=${connectTimeoutSec}`,
    '-o', 'ServerAliveInterval=15',
    '-o', 'ServerAliveCountMax=3'
  )
  if (ssh?.port !== undefined) words.push('-p', String(ssh.port))
  if (ssh?.identityFile !== undefined) words.push('-i', ssh.identityFile, '-o', 'IdentitiesOnly=yes')
  if (ssh?.knownHostsFile !== undefined) words.push('-o', `UserKnownHostsFile=${ssh.knownHostsFile}`)
  return words
}

function quoteWord (word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word
  return word.includes("'") ? `"${word}"` : `'${word}'`
}

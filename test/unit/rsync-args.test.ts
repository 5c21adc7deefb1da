import { test } from 'node:test'
import { execFileSync, spawnSync } from 'node:child_process'
import assert from 'node:assert/strict'
import { buildFullArgs, buildIncrementalArgs, buildSshCommand, buildStagingArgs, encodeFileList } from '../../src/rsync/args.js'
import { isSmallBatch } from '../../src/mesh/peer-link.js'
import { parseTargetUrl } from '../../src/config/target-url.js'

const common = { source: '/srv/up', excludes: ['*.tmp'], ioTimeoutSec: 30, connectTimeoutSec: 10, extraArgs: ['--bwlimit=1m'] }

test('an incremental run reads NUL-separated paths from stdin and deletes what is missing', () => {
  const args = buildIncrementalArgs({ parsed: parseTargetUrl('rsync://u@h:873/mod/') }, common)
  for (const flag of ['-a', '-r', '--ignore-times', '--files-from=-', '--from0', '--delete', '--delete-missing-args', '--force', '--timeout=30', '--contimeout=10', '--exclude=*.tmp', '--bwlimit=1m']) {
    assert.ok(args.includes(flag), `missing ${flag}`)
  }
  assert.deepEqual(args.slice(-2), ['/srv/up/', 'rsync://u@h:873/mod/'])
})

test('a daemon connection turns Nagle off, and an operator\'s --sockopts replaces it', () => {
  const args = buildIncrementalArgs({ parsed: parseTargetUrl('rsync://u@h:873/mod/') }, { ...common, extraArgs: ['--sockopts=TCP_NODELAY,SO_SNDBUF=65536'] })
  assert.ok(args.includes('--sockopts=TCP_NODELAY'))
  assert.ok(args.indexOf('--sockopts=TCP_NODELAY,SO_SNDBUF=65536') > args.indexOf('--sockopts=TCP_NODELAY'), 'the operator\'s --sockopts comes last and wins')
  assert.ok(!buildIncrementalArgs({ parsed: parseTargetUrl('/mnt/backup') }, common).some((a) => a.startsWith('--sockopts')), 'a local target has no socket')
})

test('a small incremental run tells a daemon no timeout (it would announce it and stall 40 ms) but keeps its own', () => {
  const daemon = { parsed: parseTargetUrl('rsync://u@h:873/mod/') }
  const small = buildIncrementalArgs(daemon, { ...common, extraArgs: ['-M--timeout=600'] }, { small: true })
  assert.ok(small.includes('--timeout=30'))
  assert.ok(small.indexOf('-M--timeout=600') > small.indexOf('-M--timeout=0'), 'the operator\'s remote timeout comes last and wins')
  assert.ok(!buildIncrementalArgs(daemon, common, { small: false }).includes('-M--timeout=0'), 'a large run keeps the daemon\'s keepalives')
  assert.ok(!buildFullArgs(daemon, { ...common, compare: 'mtime-ns' }).includes('-M--timeout=0'), 'a mirror keeps them too')
  assert.ok(!buildIncrementalArgs({ parsed: parseTargetUrl('deploy@web3:/srv/up/') }, common, { small: true }).includes('-M--timeout=0'))
})

test('a mesh batch of a few small files tells the peer\'s daemon no timeout (its announcement costs 40 ms); a larger one, or over SSH, does not', () => {
  const daemon = { parsed: parseTargetUrl('rsync://u@h:873/mod/') }
  assert.ok(buildStagingArgs(daemon, common, '.syncplane/staging/n0/b', { small: true }).includes('-M--timeout=0'))
  assert.ok(buildStagingArgs(daemon, common, '.syncplane/staging/n0/b', { small: true }).includes('--timeout=30'), 'the client keeps its own')
  assert.ok(!buildStagingArgs(daemon, common, '.syncplane/staging/n0/b').includes('-M--timeout=0'))
  assert.ok(!buildStagingArgs({ parsed: parseTargetUrl('deploy@web3:/srv/up/') }, common, '.syncplane/staging/n0/b', { small: true }).includes('-M--timeout=0'))
  assert.equal(isSmallBatch([4096, 4096]), true)
  assert.equal(isSmallBatch([64 * 1024 + 1]), false)
  assert.equal(isSmallBatch(Array.from({ length: 17 }, () => 1)), false)
  assert.equal(isSmallBatch([null]), false, 'a size not recorded is not known to be small')
})

test('a mesh push writes each file under its own name into the batch\'s staging directory, and never deletes', () => {
  const args = buildStagingArgs({ parsed: parseTargetUrl('rsync://u@h:873/mod/') }, common, '.syncplane/staging/n0/b1')
  assert.ok(args.includes('--inplace'), 'no temporary name renamed after: the directory is new for each batch')
  assert.ok(args.includes('--files-from=-') && args.includes('--from0'))
  assert.equal(args.at(-1), 'rsync://u@h:873/mod/.syncplane/staging/n0/b1/')
  assert.ok(!args.some((a) => a.startsWith('--delete')))
})

test('a full run mirrors SRC/ into DEST/ with --delete and no file list', () => {
  const args = buildFullArgs({ parsed: parseTargetUrl('/mnt/backup') }, { ...common, compare: 'checksum' })
  assert.ok(args.includes('--delete'))
  assert.ok(args.includes('--checksum'))
  assert.ok(buildFullArgs({ parsed: parseTargetUrl('/b') }, { ...common, compare: 'mtime-ns' }).includes('--modify-window=-1'))
  assert.ok(!buildFullArgs({ parsed: parseTargetUrl('/b') }, { ...common, compare: 'mtime' }).some((a) => a.startsWith('--modify-window')))
  assert.ok(!args.some((a) => a.startsWith('--files-from')))
  assert.ok(!args.some((a) => a.startsWith('--contimeout')), '--contimeout is for daemons only')
  assert.deepEqual(args.slice(-2), ['/srv/up/', '/mnt/backup/'])
})

test('an SSH target gets a non-interactive ssh with timeouts and its own key', () => {
  const args = buildIncrementalArgs({ parsed: parseTargetUrl('deploy@web3:/srv/up/'), ssh: { port: 2222, identityFile: '/keys/my key', options: ['Compression=no'] } }, common)
  const e = args[args.indexOf('-e') + 1]!
  assert.match(e, /^ssh -o BatchMode=yes -o Compression=no -o ConnectTimeout=10 /)
  assert.match(e, / -p 2222 /)
  assert.match(e, / -i '\/keys\/my key' /)
  assert.doesNotMatch(e, /Control/)
  assert.equal(buildSshCommand(undefined, 5).includes('ConnectTimeout=5'), true)
})

/** What ssh itself makes of a command line from buildSshCommand (`ssh -G` prints the options in effect). */
function sshEffectiveOptions (command: string): Map<string, string> {
  const words = [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!)
  const out = execFileSync(words[0]!, ['-F', '/dev/null', ...words.slice(1), '-G', 'example.invalid'], { encoding: 'utf8' })
  return new Map(out.split('\n').filter((l) => l !== '').map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]))
}

const hasSsh = spawnSync('ssh', ['-V']).status === 0

test('a target\'s own ssh options win over syncplane\'s (ssh keeps the first value)', { skip: !hasSsh && 'ssh is not installed' }, () => {
  const effective = sshEffectiveOptions(buildSshCommand({ options: ['ConnectTimeout=99', 'ServerAliveInterval=7'] }, 10))
  assert.equal(effective.get('connecttimeout'), '99')
  assert.equal(effective.get('serveraliveinterval'), '7')
  assert.equal(effective.get('batchmode'), 'yes')
})

test('runs to an SSH target share one connection, and nothing in its options can undo that or BatchMode', { skip: !hasSsh && 'ssh is not installed' }, () => {
  const control = { path: '/tmp/syncplane-ssh-AbC123/0-0', persistSec: 60 }
  const shared = sshEffectiveOptions(buildSshCommand({ options: ['ControlMaster=no', 'ControlPath=/elsewhere', 'BatchMode=no'], control }, 10))
  assert.equal(shared.get('controlmaster'), 'auto')
  assert.equal(shared.get('controlpath'), control.path)
  assert.equal(shared.get('controlpersist'), '60')
  assert.equal(shared.get('batchmode'), 'yes')
  assert.equal(sshEffectiveOptions(buildSshCommand({ options: [] }, 10)).get('controlmaster'), 'false')
})

test('the file list is NUL-terminated UTF-8 and carries newlines verbatim', () => {
  assert.deepEqual(encodeFileList(['a b', 'new\nline', 'ü']), Buffer.from('a b\0new\nline\0ü\0'))
  assert.equal(encodeFileList([]).length, 0)
})

test('no argument ever carries a password', () => {
  const args = buildIncrementalArgs({ parsed: parseTargetUrl('rsync://u@h/mod/') }, common)
  assert.ok(!args.some((a) => a.includes('password')))
})

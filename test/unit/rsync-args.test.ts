import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildFullArgs, buildIncrementalArgs, buildSshCommand, encodeFileList } from '../../src/rsync/args.js'
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
  assert.match(e, /^ssh -o BatchMode=yes -o ConnectTimeout=10 /)
  assert.match(e, / -p 2222 /)
  assert.match(e, / -i '\/keys\/my key' /)
  assert.match(e, / -o Compression=no$/)
  assert.equal(buildSshCommand(undefined, 5).includes('ConnectTimeout=5'), true)
})

test('the file list is NUL-terminated UTF-8 and carries newlines verbatim', () => {
  assert.deepEqual(encodeFileList(['a b', 'new\nline', 'ü']), Buffer.from('a b\0new\nline\0ü\0'))
  assert.equal(encodeFileList([]).length, 0)
})

test('no argument ever carries a password', () => {
  const args = buildIncrementalArgs({ parsed: parseTargetUrl('rsync://u@h/mod/') }, common)
  assert.ok(!args.some((a) => a.includes('password')))
})

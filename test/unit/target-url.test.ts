import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseTargetUrl, TargetUrlError } from '../../src/config/target-url.js'

test('rsync:// and host::module are daemon targets', () => {
  assert.deepEqual(parseTargetUrl('rsync://rsync@10.0.0.2:873/upload/'), { kind: 'daemon', user: 'rsync', host: '10.0.0.2', port: 873, module: 'upload', destination: 'rsync://rsync@10.0.0.2:873/upload/' })
  assert.equal(parseTargetUrl('rsync://h/m').destination, 'rsync://h/m/')
  assert.equal(parseTargetUrl('u@h::mod/sub').kind, 'daemon')
})

test('host:path is SSH and an absolute path is local', () => {
  assert.deepEqual(parseTargetUrl('deploy@10.0.0.3:/srv/uploads'), { kind: 'ssh', user: 'deploy', host: '10.0.0.3', path: '/srv/uploads', destination: 'deploy@10.0.0.3:/srv/uploads/' })
  assert.deepEqual(parseTargetUrl('/mnt/backup/uploads/'), { kind: 'local', path: '/mnt/backup/uploads/', destination: '/mnt/backup/uploads/' })
})

test('unknown schemes, relative paths and empty SSH paths are refused with a reason', () => {
  assert.throws(() => parseTargetUrl('ftp://h/x'), (e: Error) => e instanceof TargetUrlError && /unsupported URL scheme "ftp:\/\/"/.test(e.message))
  assert.throws(() => parseTargetUrl('relative/dir'), /absolute/)
  assert.throws(() => parseTargetUrl('host:'), /needs a path/)
  assert.throws(() => parseTargetUrl('rsync://host'), /rsync:\/\/\[user@\]host/)
  assert.throws(() => parseTargetUrl('/a/../b'), /\.\./)
})

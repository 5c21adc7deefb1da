import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { inTree } from '../../src/mesh/tree-fs.js'

test('a checked relative path under the tree joins as path.join would, for every kind of name a tree holds', () => {
  const names = ['a', 'dir/file', ' lead space/-dash', 'ünï/日本/x', 'star*/back\\slash', 'new\nline/.dot', '...', 'a..b/c']
  for (const root of ['/srv/uploads', '/', '/tmp/t']) {
    for (const rel of names) assert.equal(inTree(root, rel), path.join(root, rel), `${root} + ${JSON.stringify(rel)}`)
    assert.equal(inTree(root, ''), root, 'the root itself')
  }
})

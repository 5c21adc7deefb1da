import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRootLogger } from '../../src/logger.js'

test('a level set on the root reaches the children made before it, except one with a level of its own', () => {
  const root = createRootLogger({ level: 'info' })
  const component = root.logger.child({ component: 'sync' })
  const target = component.child({ target: 'a' })
  const quiet = root.logger.child({ route: 'readyz' }, { level: 'warn' })
  root.setLevel('debug')
  assert.equal(root.logger.level, 'debug')
  assert.equal(component.level, 'debug')
  assert.equal(target.level, 'debug')
  assert.equal(quiet.level, 'warn')
  assert.equal(root.logger.child({ later: true }).level, 'debug')
})

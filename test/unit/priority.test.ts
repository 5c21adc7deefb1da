import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { getPriority } from 'node:os'
import { lowerChildPriority } from '../../src/priority.js'
import { waitFor } from '../helpers/wait-for.js'

test('an autogroup change the kernel refuses for now (EAGAIN, one per 100 ms host-wide) is tried again until it is taken', async (t) => {
  const child = spawn('sleep', ['30'])
  t.after(() => child.kill())
  const writes: Array<[number, number]> = []
  let refusals = 2
  lowerChildPriority(child.pid!, 3, 1, (pid, nice) => {
    writes.push([pid, nice])
    if (refusals-- > 0) throw Object.assign(new Error('busy'), { code: 'EAGAIN' })
  })
  await waitFor(() => writes.length === 3, { message: 'the third attempt' })
  assert.deepEqual(writes, [[child.pid, 4], [child.pid, 4], [child.pid, 4]], 'its own group 1, plus 3')
  assert.equal(getPriority(child.pid), Math.min(19, getPriority() + 3), 'the process itself niced at once')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { createParcelWatcher } from '../../src/watcher/parcel-watcher.js'
import type { Change } from '../../src/watcher/watcher.js'

test('the parcel watcher reports each event once, though two root subscriptions see it', async (t) => {
  const tmp = await makeTempDir(t)
  const changes: Change[] = []
  const watcher = createParcelWatcher({
    root: tmp.path,
    isExcluded: () => false,
    sink: { onChanges: (c) => changes.push(...c), onDegraded: () => {} },
    logger: pino({ level: 'silent' }),
  })
  tmp.after(() => watcher.close())
  await watcher.start()

  await writeFile(path.join(tmp.path, 'one.txt'), 'one')
  await waitFor(() => changes.some((c) => c.path === 'one.txt'), { message: 'one.txt reported' })
  // Both subscriptions are handed their copy in the same notification, so
  // by the time a later file is reported any twin of one.txt has come too.
  await writeFile(path.join(tmp.path, 'two.txt'), 'two')
  await waitFor(() => changes.some((c) => c.path === 'two.txt'), { message: 'two.txt reported' })

  const kinds = changes.filter((c) => c.path === 'one.txt').map((c) => c.kind)
  assert.deepEqual(kinds, [...new Set(kinds)], `one.txt reported as ${kinds.join(', ')}`)
})

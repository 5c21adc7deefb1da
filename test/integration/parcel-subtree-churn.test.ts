import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import parcel from '@parcel/watcher'
import { pino } from 'pino'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { createParcelWatcher } from '../../src/watcher/parcel-watcher.js'
import type { Change } from '../../src/watcher/watcher.js'

// A parcel subscription that fails (a directory of its tree removed during
// its crawl) drops its JavaScript callback on a libuv thread, not on the
// JavaScript one: V8's handles are not thread-safe, and the process died of
// it ("Check failed: node->IsInUse()", seen in a mesh churn run; a loop of
// such subscriptions beside fs promises does it within seconds here). So
// after the start, trees that appear get no parcel subscription at all.

test('populated trees made and removed at speed for 15 s: the parcel watcher subscribes nothing after its start, keeps running and sees a file written after', async (t) => {
  const tmp = await makeTempDir(t)
  await mkdir(path.join(tmp.path, 'churn'))
  const seen: Change[] = []
  let subscriptions = 0
  const subscribe: typeof parcel.subscribe = (...args) => {
    subscriptions++
    return parcel.subscribe(...args)
  }
  const watcher = createParcelWatcher({ root: tmp.path, isExcluded: () => false, sink: { onChanges: (c) => seen.push(...c), onDegraded: () => {} }, logger: pino({ level: 'silent' }), subscribe })
  tmp.after(() => watcher.close())
  await watcher.start()
  assert.equal(subscriptions, 2, 'the root, twice')
  // Another process makes the trees, so this thread is busy only with what the watcher does.
  const churn = spawn('sh', ['-c', 'end=$(($(date +%s)+15)); while [ $(date +%s) -lt $end ]; do for i in 1 2 3 4 5 6 7 8 9 10; do mkdir -p "$0/t$i/a/b/c" "$0/t$i/d/e"; done; rm -rf "$0"/t*; done', path.join(tmp.path, 'churn')], { stdio: 'ignore' })
  tmp.after(() => { churn.kill() })
  const churned = new Promise<number | null>((resolve) => churn.on('exit', resolve))
  assert.equal(await churned, 0)
  assert.equal(subscriptions, 2, 'no subscription after the start')
  assert.equal(watcher.status().state, 'running', String(watcher.status().lastError))
  await writeFile(path.join(tmp.path, 'after.txt'), 'x')
  await waitFor(() => seen.some((c) => c.path === 'after.txt'), { message: 'the file written after the churn is reported' })
  assert.ok(seen.some((c) => c.path.startsWith('churn/t')), 'the churn was seen')
})

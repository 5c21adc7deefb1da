import { lstatSync } from 'node:fs'
import path from 'node:path'
import { parentPort, workerData } from 'node:worker_threads'
import { lowerThisThreadPriority } from '../priority.js'
import type { LookupInit, LookupReply, LookupRequest } from './lookup-thread.js'

/** The source lookup thread (see lookup-thread.ts). Codes index KIND_CODES: 0 missing, 1 dir, 2 other. */
const port = parentPort!
const init = workerData as LookupInit
lowerThisThreadPriority(init.nice)

port.on('message', (req: LookupRequest) => {
  const rels = req.paths.split('\0')
  const kinds = new Uint8Array(rels.length)
  for (let i = 0; i < rels.length; i++) {
    try {
      const st = lstatSync(path.join(init.source, rels[i]!), { throwIfNoEntry: false })
      kinds[i] = st === undefined ? 0 : st.isDirectory() ? 1 : 2
    } catch {
      // ENOTDIR, EACCES: not there as far as rsync is concerned either.
      kinds[i] = 0
    }
  }
  const reply: LookupReply = { id: req.id, kinds }
  port.postMessage(reply, [kinds.buffer])
})

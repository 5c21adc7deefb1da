import { parentPort, workerData } from 'node:worker_threads'
import { lowerThisThreadPriority } from '../priority.js'
import { lstatKindOf } from './batch-plan.js'
import type { LookupInit, LookupReply, LookupRequest } from './lookup-thread.js'
import { planRun } from './source-lookup.js'

/** The source lookup thread (see lookup-thread.ts). */
const port = parentPort!
const init = workerData as LookupInit
lowerThisThreadPriority(init.nice)

const kindOf = lstatKindOf(init.source)

port.on('message', (req: LookupRequest) => {
  const rels = req.paths.split('\0')
  const reply: LookupReply = req.op === 'plan'
    ? { id: req.id, op: 'plan', run: planRun(init.source, rels, kindOf) }
    : { id: req.id, op: 'missing', paths: rels.filter((rel) => kindOf(rel) === 'missing').join('\0') }
  port.postMessage(reply)
})

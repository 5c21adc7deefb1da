import { readFileSync } from 'node:fs'
import path from 'node:path'
import { descendantPids } from './managed-process.js'
import type { MeshNode } from './mesh.js'

/** A mesh node's processes, found and signalled from the test: kill -9, freezes. */

/** The service process of `node` and everything it runs (its rsyncs), found among this process's children by its config file. */
export function serviceTree (node: MeshNode): number[] {
  const config = path.join(path.dirname(node.root), 'config.yaml')
  const ours = descendantPids(process.pid)
  const main = ours.find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(config)
    } catch {
      return false
    }
  })
  return main === undefined ? [] : [main, ...descendantPids(main)]
}

/** kill -9 of the node's rsync daemon and its connection children (the mesh helper's kill stops it politely). */
export function killDaemon9 (node: MeshNode): void {
  // Stopped first, so it forks no connection child between the listing of its children and its death (one would
  // outlive it, serving its connection).
  try {
    process.kill(node.daemon.pid, 'SIGSTOP')
  } catch {}
  for (const pid of [node.daemon.pid, ...descendantPids(node.daemon.pid)]) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
}

/** SIGSTOP (or SIGCONT) of the node's service and daemon, each with its children: the node is unreachable but keeps its connections. */
export function freezeNode (node: MeshNode, frozen: boolean): void {
  if (frozen) node.daemon.pause()
  for (const pid of serviceTree(node)) {
    try {
      process.kill(pid, frozen ? 'SIGSTOP' : 'SIGCONT')
    } catch {}
  }
  if (!frozen) node.daemon.resume()
}

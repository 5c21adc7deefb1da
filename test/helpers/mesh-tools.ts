import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import Database from 'better-sqlite3'
import { SECRET, snapshotNode, waitConverged, type MeshNode } from './mesh.js'
import { diffSnapshots, type Snapshot } from './tree.js'

/** A call to a node's peer API (/mesh/v1/…) with the mesh secret, another token, or none (`token: null`). */
export async function peerCall (node: MeshNode, route: string, init: { method?: string, body?: unknown, token?: string | null } = {}): Promise<{ status: number, type: string, body: any }> {
  const token = init.token === undefined ? SECRET : init.token
  const res = await fetch(node.url + route, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  })
  const text = await res.text()
  let body: unknown = text
  try {
    body = text === '' ? null : JSON.parse(text)
  } catch {}
  return { status: res.status, type: res.headers.get('content-type') ?? '', body }
}

/** Puts bytes where a peer's rsync would: the node's `.syncplane/staging/<from>/<batch>/<rel>`. */
export async function stage (node: MeshNode, from: string, batch: string, rel: string, content: string | Buffer): Promise<string> {
  const file = path.join(node.root, '.syncplane', 'staging', from, batch, rel)
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, content)
  return file
}

export async function meshStatus (node: MeshNode): Promise<any> {
  const res = await node.api('/v1/mesh')
  if (res.status !== 200) throw new Error(`${node.name}: GET /v1/mesh answered ${res.status}`)
  return res.body
}

/** Every regular file of a node's tree (without .syncplane/) with its content as text. */
export async function treeContents (node: MeshNode): Promise<Map<string, string>> {
  const snap = await snapshotNode(node)
  const out = new Map<string, string>()
  for (const [rel, entry] of snap) {
    if (entry.type !== 'file') continue
    try {
      out.set(rel, await readFile(path.join(node.root, rel), 'utf8'))
    } catch {}
  }
  return out
}

/** A promise that settles after `ms` (pacing a writer, never awaiting an outcome). */
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** waitConverged, and when the mesh does not converge: what differs, what each node owes, and the end of each node's log. */
export async function convergedOrExplain (nodes: readonly MeshNode[], timeoutMs = 60_000): Promise<Snapshot> {
  try {
    return await waitConverged(nodes, timeoutMs)
  } catch (err) {
    const snaps = await Promise.all(nodes.map(snapshotNode))
    const diffs: string[] = []
    for (let i = 1; i < snaps.length; i++) diffs.push(...diffSnapshots(snaps[0]!, snaps[i]!).map((d) => `${nodes[0]!.name}/${nodes[i]!.name}: ${d}`))
    const statuses = await Promise.all(nodes.map(async (n) => {
      const s = await meshStatus(n).catch((e) => ({ error: String(e) }))
      return `${n.name}: idle ${s.idle}, waiting ${JSON.stringify(s.waiting)}, ${JSON.stringify(s.peers?.map((p: any) => ({ name: p.name, owed: p.owed, state: p.state, failures: p.consecutiveFailures, lastError: p.lastError?.slice(0, 200) })))}`
    }))
    // The log lines about the first path that differs (its conflict copies included), or else the end of each log.
    const focus = /"([^"]+)"/.exec(diffs[0] ?? '')?.[1]?.split('.sync-conflict-')[0]?.replace(/\.[^./]*$/, '')
    const logs = nodes.map((n) => {
      const lines = n.output().split('\n')
      const about = focus === undefined ? [] : lines.filter((l) => l.includes(`${focus}.`) || l.includes(`${focus}"`))
      return `--- ${n.name}${focus === undefined ? '' : ` about ${focus}`}\n${(about.length > 0 ? about.slice(-60).join('\n') : n.output().slice(-2_000))}`
    })
    throw new Error(`${(err as Error).message}\n${diffs.length} differences, first: ${diffs.slice(0, 15).join('; ')}\n${statuses.join('\n')}\n${logs.join('\n')}`)
  }
}

/** What each node's database says of `paths` (its row and what it still owes), read beside the running service. */
export function meshRows (nodes: readonly MeshNode[], paths: readonly string[]): string {
  const lines: string[] = []
  for (const node of nodes) {
    let db
    try {
      db = new Database(path.join(path.dirname(node.root), 'db.sqlite'), { readonly: true, fileMustExist: true })
      for (const p of paths) {
        const base = path.posix.basename(p)
        const stem = p.slice(0, p.length - base.length) + (base.lastIndexOf('.') > 0 ? base.slice(0, base.lastIndexOf('.')) : base)
        const rows = db.prepare('SELECT * FROM mesh_files WHERE path = ? OR (path > ? AND path < ?)').all(p, `${stem}.sync-conflict-`, `${stem}.sync-conflict.`)
        const owed = db.prepare('SELECT peer, seq FROM mesh_outbox WHERE path = ?').all(p)
        lines.push(`${node.name} ${JSON.stringify(p)}: ${JSON.stringify(rows)} owed ${JSON.stringify(owed)}`)
      }
    } catch (err) {
      lines.push(`${node.name}: ${(err as Error).message}`)
    } finally {
      db?.close()
    }
  }
  return lines.join('\n')
}

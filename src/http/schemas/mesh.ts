import { Type } from 'typebox'
import { ENTRY_OUTCOMES } from '../../mesh/manifest.js'
import { PEER_STATES } from '../../mesh/peer-link.js'
import { component, NullableTimestamp, ref, Timestamp } from './common.js'

const NodeName = Type.String({ minLength: 1, maxLength: 64 })
const Vector = Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.Integer({ minimum: 1 }))

export const ManifestSchema = Type.Object({
  from: NodeName,
  batch: Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }),
  entries: Type.Array(Type.Object({
    path: Type.String({ minLength: 1, maxLength: 4096 }),
    kind: Type.Enum(['file', 'dir']),
    deleted: Type.Boolean(),
    vv: Vector,
    hlc: Type.Integer({ minimum: 0 }),
    origin: NodeName,
    copyOf: Type.Optional(Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096 }), winner: NodeName }, { additionalProperties: false })),
    seen: Type.Optional(Vector),
    dead: Type.Optional(Vector),
  }, { additionalProperties: false }), { maxItems: 100_000 }),
}, { additionalProperties: false })

export const ApplyResultSchema = Type.Object({
  outcomes: Type.Array(Type.Enum(ENTRY_OUTCOMES), { description: 'One per entry, in order' }),
})

export const PeerStatusSchema = component('PeerStatus', Type.Object({
  name: Type.String(),
  api: Type.String(),
  state: Type.Enum(PEER_STATES),
  reachable: Type.Union([Type.Boolean(), Type.Null()], { description: 'null until the first contact' }),
  lastContact: NullableTimestamp,
  owed: Type.Integer({ description: 'Paths whose latest version this peer has not acknowledged' }),
  lagMs: Type.Integer({ description: 'How long the oldest owed path has waited' }),
  consecutiveFailures: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  nextRetryAt: NullableTimestamp,
  batchesSent: Type.Integer(),
  filesSent: Type.Integer(),
}))

export const MeshStatusSchema = component('MeshStatus', Type.Object({
  self: Type.String(),
  idle: Type.Boolean({ description: 'Nothing owed to any peer and nothing waiting to be looked at' }),
  files: Type.Integer(),
  tombstones: Type.Integer(),
  conflicts: Type.Integer(),
  deletesHeld: Type.Union([Type.Object({ count: Type.Integer(), since: Timestamp }), Type.Null()], {
    description: 'Local deletions the mass-delete guard holds back: confirm them with POST /v1/mesh/deletes/confirm',
  }),
  waiting: Type.Object({
    changes: Type.Integer({ description: 'Paths the watcher reported and directories to read again, not looked at yet' }),
    displaced: Type.Integer({ description: 'Local files a peer\'s version or deletion took out of the tree, held while a process may still write into them' }),
  }, { description: 'What keeps the node from idle besides what its peers are owed' }),
  peers: Type.Array(ref(PeerStatusSchema)),
}))

export const ConflictListSchema = Type.Object({
  total: Type.Integer(),
  items: Type.Array(Type.Object({
    id: Type.Integer(),
    path: Type.String(),
    copy: Type.String({ description: 'Where the losing version is kept' }),
    winner: Type.String({ description: 'The node whose version stayed at the path' }),
    loser: Type.String(),
    resolvedAt: Timestamp,
  })),
})

export const ConflictQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
}, { additionalProperties: false })

export const MeshConfirmBody = Type.Object({
  expected: Type.Integer({ minimum: 1, description: 'The held count as /v1/mesh shows it; refused if it changed' }),
}, { additionalProperties: false })

import { Type } from 'typebox'
import { component, Timestamp } from './common.js'

export const TargetNameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) })

export const TargetPauseSchema = component('TargetPause', Type.Object({
  target: Type.String(),
  paused: Type.Boolean(),
  changed: Type.Boolean({ description: 'False when the target already was in that state' }),
}))

export const PendingQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
  after: Type.Optional(Type.String({ minLength: 1, maxLength: 4_096, description: 'The `next` cursor of the previous page: paths sorting after it' })),
})

export const PendingPageSchema = component('PendingPage', Type.Object({
  total: Type.Integer({ description: 'Distinct paths this target has not confirmed (waiting, in a run, or awaiting a mirror)' }),
  items: Type.Array(Type.Object({
    path: Type.String(),
    since: Timestamp,
  }), { description: 'Sorted by path; `since`: when the oldest change of the path not delivered yet was seen' }),
  next: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `after` for the next page; null on the last' }),
  fullSyncPending: Type.Boolean({ description: 'A full mirror is owed: it carries more than these paths (changes not kept while the backlog was replaced by a mirror)' }),
}))

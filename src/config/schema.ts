import { Type, type Static } from 'typebox'

const TargetName = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  description: 'Unique name: letters, digits, ".", "_", "-"; used in the API and logs',
})

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Without an `ssh` block a target still shares its connection this long. */
export const SSH_CONTROL_PERSIST_SEC = 60

export const SshOptionsSchema = Type.Object({
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'ssh -p' })),
  identityFile: Type.Optional(Type.String({ minLength: 1, description: 'ssh -i, with IdentitiesOnly=yes; relative to the config file' })),
  knownHostsFile: Type.Optional(Type.String({ minLength: 1, description: 'UserKnownHostsFile; relative to the config file' })),
  options: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description: 'Extra ssh -o options, e.g. "Compression=no"; they come before syncplane\'s, so they win',
  }),
  controlPersistSec: Type.Integer({
    minimum: 0,
    maximum: 86_400,
    default: SSH_CONTROL_PERSIST_SEC,
    description: 'Runs share one SSH connection (ControlMaster), kept open this long after the last run; 0 connects anew for every run',
  }),
}, { additionalProperties: false })

/** rsync options of one target, beside the global ones; a reload (SIGHUP) changes them for the next run. */
export const TargetRsyncSchema = Type.Object({
  bwlimit: Type.Optional(Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?[bBkKmMgG]?$', description: 'rsync --bwlimit for this target only, e.g. "10m" (KiB/s without a suffix)' })),
  exclude: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Exclude patterns for this target only, after the global ones (never sent, never deleted there)' }),
  extraArgs: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Appended to this target\'s rsync command lines, after rsync.extraArgs' }),
}, { additionalProperties: false, default: {} })

/** How a target (or a mesh peer) is reached. */
const endpointProperties = {
  name: TargetName,
  url: Type.String({
    minLength: 1,
    description: 'rsync://[user@]host[:port]/module/[path], [user@]host:/path (SSH) or an absolute local path',
  }),
  passwordFile: Type.Optional(Type.String({ minLength: 1, description: 'rsync daemon password file' })),
  passwordEnv: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'environment variable holding the rsync daemon password' })),
  ssh: Type.Optional(SshOptionsSchema),
}

export const TargetSchema = Type.Object({
  ...endpointProperties,
  rsync: TargetRsyncSchema,
}, { additionalProperties: false })

export const SourceSchema = Type.Object({
  path: Type.String({ minLength: 1, description: 'Absolute path of the watched tree' }),
  marker: Type.Optional(Type.String({
    pattern: '^[^/]+$',
    description: 'A file that must exist at the top of the source (e.g. ".syncplane-root", like Syncthing\'s .stfolder); while it is missing nothing is sent or deleted. Recommended for mounted upload volumes',
  })),
}, { additionalProperties: false })

/** A peer is reached as a target is (the same URL forms, passwords and SSH options), plus its API. */
export const MeshPeerSchema = Type.Object({
  ...endpointProperties,
  api: Type.String({ pattern: '^https?://[^/]+$', description: 'The peer\'s syncplane API, e.g. http://10.0.0.2:8787 (no path)' }),
  url: Type.String({
    minLength: 1,
    description: 'The peer\'s tree as rsync reaches it: rsync://[user@]host[:port]/module/ whose module path is the peer\'s source, [user@]host:/path (SSH), or an absolute local path (nodes on one machine)',
  }),
}, { additionalProperties: false })

export const MeshSchema = Type.Object({
  self: Type.Optional(Type.String({ minLength: 1, description: 'Which of the peers this node is (or the SYNCPLANE_MESH_SELF environment variable), so one file serves every node' })),
  secret: Type.Optional(Type.String({ minLength: 16, description: 'Shared secret the peers authenticate to each other with (or secretFile, or the SYNCPLANE_MESH_SECRET environment variable)' })),
  secretFile: Type.Optional(Type.String({ minLength: 1, description: 'File whose first line is the mesh secret; relative to the config file' })),
  peers: Type.Array(MeshPeerSchema, { minItems: 2, description: 'Every node of the mesh, this one included' }),
  maxEntries: Type.Integer({ minimum: 1, maximum: 100_000, default: 2_000, description: 'Most paths one batch to a peer carries' }),
  rescanSec: Type.Integer({ minimum: 1, maximum: 86_400, default: 60, description: 'The whole tree is compared with the versions this often, repairing any change the watcher missed' }),
  repairSec: Type.Integer({ minimum: 0, maximum: 86_400, default: 300, description: 'Every peer is compared with this node this often and sent what it lacks (anti-entropy, never a destructive mirror); also whenever a peer comes back. 0: only then' }),
  trashDays: Type.Integer({ minimum: 0, maximum: 3_650, default: 7, description: 'Files a peer deleted or replaced are kept in .syncplane/trash this long (0: removed at once)' }),
  tombstoneDays: Type.Integer({ minimum: 0, maximum: 36_500, default: 90, description: 'A deletion every peer has acknowledged is remembered this long, then forgotten (0: remembered forever). A peer that has not acknowledged it keeps it remembered, however long it is away' }),
}, { additionalProperties: false })

export const ConfigSchema = Type.Object({
  source: Type.Union([Type.String({ minLength: 1 }), SourceSchema], { description: 'Absolute path of the watched tree, or { path, marker }' }),
  exclude: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description: 'rsync exclude patterns, applied by the watcher and by every rsync run',
  }),
  database: Type.String({ minLength: 1, description: 'SQLite file (created when missing)' }),
  logLevel: Type.Enum(LOG_LEVELS, { default: 'info', description: 'JSON logs on stdout (or the SYNCPLANE_LOG_LEVEL environment variable)' }),
  api: Type.Object({
    host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address the HTTP API listens on (or the SYNCPLANE_API_HOST environment variable)' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8787, description: 'Port of the HTTP API (or the SYNCPLANE_API_PORT environment variable)' }),
    trustProxy: Type.Boolean({ default: false, description: 'Behind a reverse proxy: take the client address from X-Forwarded-For (recorded as requestedBy)' }),
    token: Type.Optional(Type.String({ minLength: 16, description: 'Bearer token required on /v1/* and /metrics (or tokenFile, or the SYNCPLANE_API_TOKEN environment variable)' })),
    tokenFile: Type.Optional(Type.String({ minLength: 1, description: 'File whose first line is the API token; relative to the config file' })),
    allowUnauthenticated: Type.Boolean({ default: false, description: 'Allow a non-loopback api.host without a token (the API can pause replication and trigger mirrors)' }),
  }, { additionalProperties: false, default: {} }),
  watcher: Type.Object({
    backend: Type.Enum(['parcel', 'chokidar'], { default: 'parcel', description: '`parcel`: native, one inotify watch per directory, scales to millions of files. `chokidar`: one watch per file and directory, or polling' }),
    usePolling: Type.Boolean({ default: false, description: 'Poll instead of inotify (network filesystems, some bind mounts); needs backend chokidar' }),
    pollIntervalMs: Type.Integer({ minimum: 10, default: 1000, description: 'Poll interval when usePolling is on' }),
  }, { additionalProperties: false, default: {} }),
  batch: Type.Object({
    quietMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 0, description: 'An idle target syncs once no change arrived for this long (the parcel backend already delivers changes after 50 ms without any)' }),
    maxDelayMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 500, description: 'Upper bound on how long a change waits for a quiet moment' }),
    maxPaths: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 20_000, description: 'Most paths one rsync run carries' }),
    maxPending: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 100_000, description: 'Past this many pending paths for one target (a long outage), they are replaced by one full mirror of that target' }),
  }, { additionalProperties: false, default: {} }),
  rsync: Type.Object({
    binary: Type.String({ minLength: 1, default: 'rsync', description: 'rsync executable; 3.2.3 or newer, checked at start' }),
    ioTimeoutSec: Type.Integer({ minimum: 1, maximum: 86_400, default: 30, description: 'rsync --timeout: abort when no data moves for this long' }),
    connectTimeoutSec: Type.Integer({ minimum: 1, maximum: 3_600, default: 10, description: 'rsync --contimeout / ssh ConnectTimeout' }),
    deadlineSec: Type.Integer({ minimum: 1, default: 900, description: 'Hard limit for one incremental run; then SIGTERM, then SIGKILL' }),
    killGraceSec: Type.Integer({ minimum: 1, maximum: 600, default: 5, description: 'Time between SIGTERM and SIGKILL' }),
    extraArgs: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Appended to every rsync command line, e.g. ["--bwlimit=10m"]' }),
    nice: Type.Integer({ minimum: 0, maximum: 19, default: 10, description: 'Runs rsync this much nicer than the service (a nice increment): the upload service and this API get the CPU first; 0 keeps them level' }),
  }, { additionalProperties: false, default: {} }),
  threads: Type.Object({
    nice: Type.Integer({ minimum: 0, maximum: 19, default: 10, description: 'The service\'s worker threads (the watcher\'s, the source lookups\') run this much nicer than the thread that answers HTTP, so probes are answered first in a burst; 0 keeps them level' }),
    watcher: Type.Enum(['auto', 'own', 'service'], {
      default: 'auto',
      description: 'Where the parcel watcher takes a burst\'s events in: on a thread of its own (own), niced, which keeps a one-way burst off the thread that answers HTTP; or on that thread (service), about 13 MB less per process, where a mesh node\'s peers keep it busy anyway; auto: own for one-way replication, service on a mesh node',
    }),
  }, { additionalProperties: false, default: {} }),
  fullSync: Type.Object({
    onStart: Type.Boolean({ default: true, description: 'Mirror every target once the watch is established' }),
    intervalSec: Type.Integer({ minimum: 0, default: 3_600, description: 'Mirror every target this often (0: never); repairs missed events and drift on the targets' }),
    afterCrash: Type.Boolean({ default: true, description: 'After an unclean stop (kill -9, power loss), mirror every target even when onStart is false: changes made while syncplane was down were never seen' }),
    compare: Type.Enum(['mtime-ns', 'mtime', 'checksum'], {
      default: 'mtime-ns',
      description: 'How a full mirror decides a file differs: size and nanosecond mtime (default), size and whole-second mtime (targets whose filesystem keeps no sub-second times), or content (-c, reads every file on both sides)',
    }),
    deadlineSec: Type.Integer({ minimum: 1, default: 86_400, description: 'Hard limit for one full mirror' }),
  }, { additionalProperties: false, default: {} }),
  retry: Type.Object({
    initialDelayMs: Type.Integer({ minimum: 10, default: 1_000, description: 'Wait before the first retry; doubles per consecutive failure' }),
    maxDelayMs: Type.Integer({ minimum: 10, default: 30_000, description: 'Longest wait between retries; also the pace of retries that need an operator (auth refused, unknown module)' }),
    jitter: Type.Number({ minimum: 0, maximum: 1, default: 0.2, description: 'Fraction of the delay randomised, so targets do not retry in lockstep' }),
  }, { additionalProperties: false, default: {} }),
  jobs: Type.Object({
    pathsPerJob: Type.Integer({ minimum: 0, maximum: 100_000, default: 1_000, description: 'Paths kept in the job history per job' }),
    retentionDays: Type.Integer({ minimum: 0, default: 30, description: 'Finished jobs older than this are deleted (0: kept by age forever)' }),
    maxJobs: Type.Integer({ minimum: 0, default: 1_000_000, description: 'At most this many finished jobs are kept, the newest (0: no limit)' }),
  }, { additionalProperties: false, default: {} }),
  readiness: Type.Object({
    maxLagSec: Type.Integer({ minimum: 0, default: 0, description: '/readyz fails while any target lags more than this (0: lag is not checked)' }),
  }, { additionalProperties: false, default: {} }),
  deletes: Type.Object({
    maxFiles: Type.Integer({ minimum: 0, default: 10_000, description: 'A run that would delete more files than this on a target deletes nothing: the target holds its deletions until an operator confirms them (0: no limit)' }),
    maxPercent: Type.Number({ minimum: 0, maximum: 100, default: 50, description: 'Likewise for a run that would delete more than this share of a target\'s files (100: no limit)' }),
    minFiles: Type.Integer({ minimum: 0, default: 1_000, description: 'Runs deleting at most this many files are never held by maxPercent: in a small tree a directory deleted or renamed is often most of it' }),
  }, { additionalProperties: false, default: {} }),
  shutdown: Type.Object({
    drainSec: Type.Integer({ minimum: 0, maximum: 3_600, default: 10, description: 'On SIGTERM, how long running rsyncs may finish before they are stopped' }),
  }, { additionalProperties: false, default: {} }),
  targets: Type.Array(TargetSchema, { default: [], description: 'Where to replicate one way; each target has its own queue. At least one target, or a mesh' }),
  mesh: Type.Optional(MeshSchema),
}, { additionalProperties: false })

/** The config as the loader hands it out: `source` is always the path, `sourceMarker` the marker or null. */
export type Config = Omit<Static<typeof ConfigSchema>, 'source'> & { source: string; sourceMarker: string | null }
export type DeleteGuardConfig = Config['deletes']
export type TargetConfig = Static<typeof TargetSchema>
export type TargetRsyncOptions = Static<typeof TargetRsyncSchema>
export type MeshConfig = Static<typeof MeshSchema>
export type MeshPeerConfig = Static<typeof MeshPeerSchema>

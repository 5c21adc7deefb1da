/** Generated from openapi.json by openapi-typescript (npm run openapi); do not edit. */

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: the process answers */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: the watcher is established and the database answers */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ui": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The status page (HTML) */
        get: operations["getStatusPage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ui/app.js": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The status page's script */
        get: operations["getStatusPageScript"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ui/app.css": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The status page's style sheet */
        get: operations["getStatusPageStyle"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ui/favicon.svg": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The status page's icon */
        get: operations["getStatusPageIcon"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Version, watcher and database state and, per target, backlog, state and last outcome */
        get: operations["getStatus"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/watch/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Stop syncing watched changes (they are still recorded). Idempotent */
        post: operations["pauseWatching"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/watch/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Sync everything recorded while paused and carry on. Idempotent */
        post: operations["resumeWatching"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/resync": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Queue a full mirror (rsync --delete) of the source to some or all targets, or preview one
         * @description Answers 202 with the queued jobs. With `wait=true` it answers when they finished: 200 if all succeeded, 502 with the jobs if any did not, 409 with `deletesHeld` if a target holds deletions (the mass-delete guard or a source fault kept them back: preview with `dryRun`, then confirm them or resync with `force`), 504 if `timeout` passed first (the jobs go on). A target that already has a full sync queued answers with that job. With `dryRun: true` nothing changes: 200 with what a forced mirror would send and delete per target (`rsync -n`). 409 `SOURCE_UNAVAILABLE` while the source root is missing or its marker is.
         */
        post: operations["resync"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/targets/{name}/deletes/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Release the deletions a target holds: a forced full mirror makes them
         * @description A target holds deletions when a run would have deleted more than `deletes.maxFiles` or `deletes.maxPercent` allow, or while the source root was unmounted or replaced. Preview them first with `POST /v1/resync {"dryRun": true}`. Answers 202 with the forced mirror's job; 409 `NO_DELETES_HELD` when the target holds none, `DELETES_CHANGED` when `expected` is not the count it holds now. When every target has released its deletions after a source fault, the directory now at the source path becomes the source. A forced resync (`POST /v1/resync {"force": true}`) confirms too.
         */
        post: operations["confirmDeletes"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/targets/{name}/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Stop sending to one target; its changes are still recorded. Idempotent, kept across restarts
         * @description An operator's resync still runs on a paused target, as with the global pause. To stop a run going on, cancel its job (`POST /v1/jobs/{id}/cancel`).
         */
        post: operations["pauseTarget"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/targets/{name}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send one target what was recorded while it was paused, and carry on. Idempotent */
        post: operations["resumeTarget"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/targets/{name}/pending": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The paths one target still lacks, sorted by path and paged */
        get: operations["listTargetPending"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/flush": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Wait until every change observed before this call is on every named target (and, on a mesh node, on every peer)
         * @description A barrier: answers 200 with the runs that carried the changes once every named target confirmed them, 504 if `timeout` passed first (the work goes on), 409 while watching is paused. Name `paths` you just wrote so they count at once. Without `paths`, every write completed before the call counts: the watcher first reports a sentinel entry (`.syncplane-flush-<random>`, created in the source and removed again, never replicated) through its own event queue, so it has read every earlier event. That guarantee holds on Linux with the parcel backend and with chokidar without polling; with chokidar polling, or when the source is not writable, the flush waits a fixed time instead (two poll intervals, or 1 s) and may answer before a very recent write is seen. Concurrent flushes share rsync runs.
         */
        post: operations["flush"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Job history, newest first, filtered and paginated by cursor */
        get: operations["listJobs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One job with the paths it carried */
        get: operations["getJob"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Stop a running job, or drop a queued one; its paths stay pending
         * @description A running rsync is stopped (SIGTERM, then SIGKILL after rsync.killGraceSec); the job ends `interrupted` with the error "cancelled by an operator" (watch `GET /v1/jobs/{id}` or the event stream). Nothing is lost: the paths it carried stay pending, and the target tries again after retry.maxDelayMs. Pause the target first to hold it. 409 `JOB_NOT_RUNNING` for a job that already ended.
         */
        post: operations["cancelJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics (text exposition format) */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Server-Sent Events: jobs queued, started and finished; pause and resume; watcher degraded; target state changes
         * @description Each event has an increasing id. Reconnect with the Last-Event-ID header (or ?lastEventId=) to resume from a bounded buffer; a client that fell further behind first gets an `events.missed` event saying how many it lost (re-read /v1/status then). A client that leaves more than 1 MiB unread is disconnected (it resumes the same way).
         */
        get: operations["streamEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/mesh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This node's mesh: every peer with what it is owed, the conflicts, held deletions */
        get: operations["getMesh"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/mesh/conflicts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Conflicts this node resolved, newest first: where each losing version is kept */
        get: operations["listConflicts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/mesh/repair": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Compare this node with every peer now and send each what it lacks (runs by itself every mesh.repairSec)
         * @description Never deletes anything by itself: a deletion reaches a peer only as the tombstone of a version that peer had, by the usual rule.
         */
        post: operations["repairMesh"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/mesh/deletes/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Let the local deletions the mass-delete guard holds go to the peers
         * @description A scan that finds more deletions than `deletes.maxFiles` (or `deletes.maxPercent` of the tree above `deletes.minFiles`) records none of them. 409 `NO_DELETES_HELD` when none are held, `DELETES_CHANGED` when `expected` is not the count held now.
         */
        post: operations["confirmMeshDeletes"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** Problem */
        Problem: {
            /**
             * @description A URI naming the kind of problem
             * @example https://syncplane.dev/problems/validation-failed
             */
            type: string;
            title: string;
            status: number;
            detail: string;
            /** @description Stable machine-readable error code */
            code: string;
            /** @description Validation failures, one per invalid field */
            errors?: {
                /** @description body, querystring, params or headers */
                in: string;
                /** @description JSON pointer to the offending field */
                path: string;
                message: string;
            }[];
        };
        /** Job */
        Job: {
            id: number;
            target: string;
            /** @enum {unknown} */
            kind: "incremental" | "full";
            /** @enum {unknown} */
            trigger: "watch" | "api" | "startup" | "retry" | "resume" | "periodic" | "recovery" | "watcher" | "overflow" | "reload";
            /** @enum {unknown} */
            status: "queued" | "running" | "succeeded" | "failed" | "interrupted";
            /** @description 1 for a first try; retries count up */
            attempt: number;
            /** @description Paths the watcher reported for this run (0 for a full sync) */
            pathsCount: number;
            /** @description True when more paths were carried than the history keeps */
            pathsTruncated: boolean;
            /** @description From rsync's --stats */
            filesTransferred: number | null;
            /** @description Total size of the files transferred */
            bytesTransferred: number | null;
            exitCode: number | null;
            error: string | null;
            warning: string | null;
            /** @description Remote address of the API caller that asked for this job */
            requestedBy: string | null;
            /** Format: date-time */
            createdAt: string;
            startedAt: string | null;
            finishedAt: string | null;
            durationMs: number | null;
        };
        /** JobDetail */
        JobDetail: {
            job: components["schemas"]["Job"];
            /** @description The paths this job carried (capped per job) */
            paths: string[];
        };
        /** JobList */
        JobList: {
            jobs: components["schemas"]["Job"][];
            /** @description Pass as cursor for the next (older) page; null on the last page */
            nextCursor: number | null;
        };
        /** Readiness */
        Readiness: {
            /** @enum {unknown} */
            status: "ready" | "not ready";
            checks: {
                watcher: {
                    ok: boolean;
                    /** @enum {unknown} */
                    state: "starting" | "running" | "degraded" | "stopped";
                    detail: string | null;
                };
                database: {
                    ok: boolean;
                    detail: string | null;
                };
                /** @description Checked when readiness.maxLagSec is set (targets and mesh peers) */
                lag: {
                    ok: boolean;
                    detail: string | null;
                };
                /** @description On a mesh node: the peers reached and what they are owed. An unreachable peer does not make this node unready (it still serves every file it has); a held mass deletion does */
                mesh?: {
                    ok: boolean;
                    detail: string | null;
                };
            };
        };
        /** Status */
        Status: {
            /** @description The syncplane version that answers, e.g. 0.1.0 */
            version: string;
            /**
             * Format: date-time
             * @description When this service started (a restart or an upgrade resets it)
             */
            startedAt: string;
            watcher: {
                /** @enum {unknown} */
                state: "starting" | "running" | "paused" | "degraded" | "stopped";
                lastError: string | null;
            };
            sourceFault: {
                /** @enum {unknown} */
                kind: "missing" | "unmounted" | "replaced" | "marker-missing";
                message: string;
            } | null;
            paused: boolean;
            database: {
                /**
                 * @description failing: some writes (journal, job history, settings) are kept in memory and retried; replication goes on
                 * @enum {unknown}
                 */
                state: "ok" | "failing";
                /** @description What fails, e.g. "database or disk is full (SQLITE_FULL) writing the journal" */
                error: string | null;
                since: string | null;
            };
            targets: components["schemas"]["TargetStatus"][];
            mesh?: components["schemas"]["MeshStatus"];
        };
        /** TargetStatus */
        TargetStatus: {
            name: string;
            url: string;
            /**
             * @description `held`: the target holds deletions back until an operator confirms them (see deletesHeld)
             * @enum {unknown}
             */
            state: "idle" | "waiting" | "paused" | "syncing" | "retrying" | "failing" | "held";
            /** @description Paused on its own (POST /v1/targets/{name}/pause), apart from the global pause */
            paused: boolean;
            /** @description Changed paths waiting for this target */
            pending: number;
            /** @description Paths in the running rsync */
            inFlight: number;
            /** @description A full mirror is owed to this target (requested, periodic, after a crash, or replacing a backlog too long to keep) */
            fullSyncPending: boolean;
            /** @description Age of the oldest change this target has not confirmed */
            lagMs: number;
            runningJobId: number | null;
            queuedFullJobId: number | null;
            consecutiveFailures: number;
            nextRetryAt: string | null;
            lastSuccessAt: string | null;
            lastError: {
                message: string;
                /** Format: date-time */
                at: string;
                jobId: number;
            } | null;
            deletesHeld: {
                /**
                 * @description `limit`: a run would have deleted more than deletes.maxFiles or deletes.maxPercent allow; `source`: the source root was unmounted or replaced
                 * @enum {unknown}
                 */
                reason: "limit" | "source";
                /** @description Deletions held back so far, as rsync counted them (files inside deleted directories included) */
                count: number;
                message: string;
                /** Format: date-time */
                since: string;
                /** @description The run that held deletions last */
                jobId: number | null;
                /** @description An operator confirmed them: the next full mirror makes them */
                confirmed: boolean;
            } | null;
        };
        /** WatchState */
        WatchState: {
            paused: boolean;
            /** @description False when the call found the watcher already in that state */
            changed: boolean;
        };
        /** ResyncResult */
        ResyncResult: {
            /** @description Empty for a dry run */
            jobs: components["schemas"]["Job"][];
            /** @description A flush on a mesh node: whether the changes reached every peer */
            mesh?: {
                /** @description Every peer acknowledged every version recorded before the answer */
                done: boolean;
                /** @description Versions still owed to some peer */
                owed: number;
            };
            /** @description A dry run: what a forced mirror would do */
            preview?: {
                target: string;
                send: {
                    count: number;
                    /** @description The first names, up to the `limit` query parameter */
                    paths: string[];
                };
                delete: {
                    count: number;
                    /** @description The first names, up to the `limit` query parameter */
                    paths: string[];
                };
                /** @description Why this target could not be previewed */
                error: string | null;
            }[];
            /** @description With wait: targets that hold deletions after the jobs (answered 409) */
            deletesHeld?: {
                target: string;
                count: number;
                message: string;
            }[];
        };
        /** ConfirmDeletesResult */
        ConfirmDeletesResult: {
            job: components["schemas"]["Job"];
            /** @description The deletions confirmed */
            count: number;
        };
        /** TargetPause */
        TargetPause: {
            target: string;
            paused: boolean;
            /** @description False when the target already was in that state */
            changed: boolean;
        };
        /** PendingPage */
        PendingPage: {
            /** @description Distinct paths this target has not confirmed (waiting, in a run, or awaiting a mirror) */
            total: number;
            /** @description Sorted by path; `since`: when the oldest change of the path not delivered yet was seen */
            items: {
                path: string;
                /** Format: date-time */
                since: string;
            }[];
            /** @description Pass as `after` for the next page; null on the last */
            next: string | null;
            /** @description A full mirror is owed: it carries more than these paths (changes not kept while the backlog was replaced by a mirror) */
            fullSyncPending: boolean;
        };
        /** MeshStatus */
        MeshStatus: {
            self: string;
            /** @description Nothing owed to any peer and nothing waiting to be looked at */
            idle: boolean;
            files: number;
            tombstones: number;
            conflicts: number;
            /** @description Local deletions the mass-delete guard holds back: confirm them with POST /v1/mesh/deletes/confirm */
            deletesHeld: {
                count: number;
                /** Format: date-time */
                since: string;
            } | null;
            /** @description What keeps the node from idle besides what its peers are owed */
            waiting: {
                /** @description Paths the watcher reported and directories to read again, not looked at yet */
                changes: number;
                /** @description Local files a peer's version or deletion took out of the tree, held while a process may still write into them */
                displaced: number;
            };
            peers: components["schemas"]["PeerStatus"][];
        };
        /** PeerStatus */
        PeerStatus: {
            name: string;
            api: string;
            /** @enum {unknown} */
            state: "idle" | "sending" | "failing";
            /** @description null until the first contact */
            reachable: boolean | null;
            lastContact: string | null;
            /** @description Paths whose latest version this peer has not acknowledged */
            owed: number;
            /** @description How long the oldest owed path has waited */
            lagMs: number;
            consecutiveFailures: number;
            lastError: string | null;
            nextRetryAt: string | null;
            batchesSent: number;
            filesSent: number;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ok";
                    };
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getStatusPage: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The status page (HTML) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getStatusPageScript: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The status page's script */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/javascript": string;
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getStatusPageStyle: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The status page's style sheet */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/css": string;
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getStatusPageIcon: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The status page's icon */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "image/svg+xml": string;
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getStatus: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Status"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    pauseWatching: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WatchState"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    resumeWatching: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WatchState"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    resync: {
        parameters: {
            query?: {
                /** @description Answer when the jobs finished: 200 if all succeeded, 502 otherwise, 409 if a target holds deletions */
                wait?: boolean;
                /** @description With dryRun: names listed per target and kind */
                limit?: number;
                /** @description With wait: give up waiting after this many seconds (504); the jobs go on */
                timeout?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    /** @description Target names; all targets when absent or empty */
                    targets?: string[];
                    /** @description Mirror even when the source is empty and a target is not, and make every deletion a target holds (this confirms them) */
                    force?: boolean;
                    /** @description Change nothing: answer 200 with what a forced mirror would send and delete on each target (rsync -n) */
                    dryRun?: boolean;
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ResyncResult"];
                };
            };
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ResyncResult"];
                };
            };
            /** @description A target holds deletions (`deletesHeld`), or a problem such as SOURCE_UNAVAILABLE */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ResyncResult"];
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Default Response */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ResyncResult"];
                };
            };
            /** @description Default Response */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ResyncResult"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    confirmDeletes: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    /** @description The count the operator reviewed; refused (409) when the target now holds another */
                    expected?: number;
                };
            };
        };
        responses: {
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConfirmDeletesResult"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    pauseTarget: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TargetPause"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    resumeTarget: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TargetPause"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listTargetPending: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next` cursor of the previous page: paths sorting after it */
                after?: string;
            };
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingPage"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    flush: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    /** @description Target names; all targets when absent or empty */
                    targets?: string[];
                    /** @description Paths the caller just changed; counted as observed now, even if the watcher has not reported them yet */
                    paths?: string[];
                    /**
                     * @description Seconds to wait before answering 504 (the work goes on)
                     * @default 60
                     */
                    timeout?: number;
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ResyncResult"];
                };
            };
            /** @description Default Response */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ResyncResult"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listJobs: {
        parameters: {
            query?: {
                status?: "queued" | "running" | "succeeded" | "failed" | "interrupted";
                target?: string;
                kind?: "incremental" | "full";
                trigger?: "watch" | "api" | "startup" | "retry" | "resume" | "periodic" | "recovery" | "watcher" | "overflow" | "reload";
                /** @description Jobs created at or after this time */
                since?: string;
                /** @description Jobs created before this time */
                until?: string;
                /** @description Jobs that carried this path, relative to the source (each job keeps up to jobs.pathsPerJob paths) */
                path?: string;
                limit?: number;
                /** @description nextCursor of the previous page */
                cursor?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobList"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobDetail"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cancelJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Job"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text format */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    streamEvents: {
        parameters: {
            query?: {
                lastEventId?: number;
            };
            header?: {
                "last-event-id"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An endless text/event-stream */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getMesh: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MeshStatus"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listConflicts: {
        parameters: {
            query?: {
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        items: {
                            id: number;
                            path: string;
                            /** @description Where the losing version is kept */
                            copy: string;
                            /** @description The node whose version stayed at the path */
                            winner: string;
                            loser: string;
                            /** Format: date-time */
                            resolvedAt: string;
                        }[];
                    };
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    repairMesh: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        peers: {
                            peer: string;
                            queued: number;
                            error?: string;
                        }[];
                    };
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    confirmMeshDeletes: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description The held count as /v1/mesh shows it; refused if it changed */
                    expected: number;
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MeshStatus"];
                };
            };
            /** @description The request was invalid (RFC 9457 problem details) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server failed (RFC 9457 problem details) */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}

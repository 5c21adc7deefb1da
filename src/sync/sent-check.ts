/**
 * How long after a run its sent names are checked against the source. It
 * must outlast the watcher backend's coalescing window: @parcel/watcher
 * reports a path created and deleted within one batch (up to 500 ms) as
 * nothing at all, so a short-lived file a run happened to copy (a mirror, a
 * directory sent whole, an upload's temp file) would otherwise stay on the
 * target until the next full mirror.
 */
export const SENT_CHECK_DELAY_MS = 1_000

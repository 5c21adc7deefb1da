/** What an operator reads when inotify runs out of watches, whichever backend hit it. */
export function watchLimitMessage (detail: string): string {
  return `inotify watch limit reached (${detail}); changes below unwatched directories are missed until a full resync. Raise it: sysctl -w fs.inotify.max_user_watches=1048576`
}

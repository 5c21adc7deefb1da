#!/bin/sh
# Full resync after a deploy: run it once new files are in syncplane's source
# directory. It asks syncplane to mirror the source to its targets
# (rsync -a --delete), waits for the result and prints one line per job.
#
# Exit status: 0 when every job succeeded; 1 when a job failed (the API
# answers 502), waiting timed out (504, the jobs carry on) or the request was
# refused; curl's own status (e.g. 7) when syncplane could not be reached.
#
# Environment:
#   SYNCPLANE_URL      base URL of the API, e.g. http://10.0.0.5:8787 (required)
#   SYNCPLANE_TIMEOUT  seconds to wait for the jobs (default 600, max 86400)
#   SYNCPLANE_TARGETS  target names, separated by commas or spaces
#                      (default: all targets)
#   SYNCPLANE_FORCE    "true" mirrors even when the source is empty and a
#                      target is not (default: false; syncplane refuses that)
#
# The API listens on 127.0.0.1 unless api.host says otherwise and has no
# authentication. If the CI runner cannot reach it, run this on the server:
#   ssh deploy@upload1 'SYNCPLANE_URL=http://127.0.0.1:8787 sh -s' < resync-after-deploy.sh
#
# Needs curl >= 7.76 (--fail-with-body); prints a table when jq is
# installed, the raw JSON otherwise.
set -eu

: "${SYNCPLANE_URL:?set SYNCPLANE_URL to the syncplane API, e.g. http://127.0.0.1:8787}"
timeout=${SYNCPLANE_TIMEOUT:-600}
case $timeout in
  '' | *[!0-9]*) echo "resync: SYNCPLANE_TIMEOUT must be a number of seconds, got '$timeout'" >&2; exit 2 ;;
esac

# The request body: {"targets": [...], "force": true|false}. Target names are
# letters, digits, ".", "_" and "-" only, so they need no JSON escaping.
targets=
set -f # no globbing while splitting the list
for name in $(printf '%s' "${SYNCPLANE_TARGETS:-}" | tr ',' ' '); do
  case $name in
    *[!A-Za-z0-9._-]*) echo "resync: invalid target name '$name'" >&2; exit 2 ;;
  esac
  targets="${targets:+$targets,}\"$name\""
done
set +f
case ${SYNCPLANE_FORCE:-false} in
  true) force=true ;;
  false | '') force=false ;;
  *) echo "resync: SYNCPLANE_FORCE must be true or false" >&2; exit 2 ;;
esac
body="{\"targets\":[$targets],\"force\":$force}"

url="${SYNCPLANE_URL%/}/v1/resync?wait=true&timeout=$timeout"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
trap 'exit 130' INT TERM

echo "resync: POST $url $body" >&2
# curl's own deadline leaves syncplane time to answer 504 first.
if status=$(curl --fail-with-body -sS -X POST \
    -H 'Content-Type: application/json' --data "$body" \
    --max-time $((timeout + 30)) \
    -o "$out" -w '%{http_code}' "$url"); then
  rc=0
else
  rc=$?
fi

if [ -s "$out" ]; then
  if command -v jq >/dev/null 2>&1 && jq -e . "$out" >/dev/null 2>&1; then
    # Jobs as a table; an error answer (RFC 9457 problem+json) as its detail.
    jq -r '
      if has("jobs") then
        .jobs[] | [ .target, "job \(.id)", .status, "\(.durationMs // "-") ms",
                    "\(.filesTransferred // "-") files", (.error // .warning // "") ] | @tsv
      else
        "\(.status // "") \(.title // "error"): \(.detail // .)"
      end' "$out"
  else
    cat "$out"
    echo
  fi
fi

case $status in
  200) echo "resync: all targets mirrored" >&2 ;;
  502) echo "resync: at least one job failed (see above; GET /v1/jobs/ID for details)" >&2 ;;
  504) echo "resync: still running after ${timeout}s; the jobs carry on (GET /v1/status)" >&2 ;;
  000) echo "resync: could not reach syncplane at $SYNCPLANE_URL (curl exit $rc)" >&2 ;;
  *) echo "resync: request failed with HTTP $status" >&2 ;;
esac

if [ "$status" = 200 ]; then exit 0; fi
if [ "$rc" -ne 0 ] && [ "$status" = 000 ]; then exit "$rc"; fi
exit 1

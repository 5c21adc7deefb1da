#!/bin/sh
# Full resync after a deploy: run it once new files are in syncplane's source
# directory. It asks syncplane to mirror the source to its targets
# (rsync -a --delete), waits for the result and prints one line per job.
#
# Exit status: 0 when every job succeeded; 1 when a job failed (the API
# answers 502), waiting timed out (504, the jobs carry on) or the request was
# refused (401: no token or the wrong one); curl's own status (e.g. 7) when
# syncplane could not be reached; 2 for a bad setting of this script.
#
# Environment:
#   SYNCPLANE_URL      base URL of the API, e.g. http://10.0.0.5:8787 (required)
#   SYNCPLANE_API_TOKEN
#                      the API's bearer token (api.token, api.tokenFile or the
#                      service's SYNCPLANE_API_TOKEN); from a CI secret
#   SYNCPLANE_API_TOKEN_FILE
#                      or a file whose first line is the token, e.g. the
#                      service's own api.tokenFile when this runs on its host
#   SYNCPLANE_TIMEOUT  seconds to wait for the jobs (default 600, max 86400)
#   SYNCPLANE_TARGETS  target names, separated by commas or spaces
#                      (default: all targets)
#   SYNCPLANE_FORCE    "true" mirrors even when the source is empty and a
#                      target is not (default: false; syncplane refuses that)
#
# With a token set on the service (required unless the API listens on
# loopback), /v1/* answers 401 without it. The token never appears on a
# command line (ps would show it): curl reads the header from a private
# temporary file. If the CI runner cannot reach the API, run this on the
# server, with the token from the file the service reads:
#   ssh deploy@upload1 'SYNCPLANE_URL=http://127.0.0.1:8787 SYNCPLANE_API_TOKEN_FILE=/etc/syncplane/api-token sh -s' < resync-after-deploy.sh
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

token=${SYNCPLANE_API_TOKEN:-}
if [ -z "$token" ] && [ -n "${SYNCPLANE_API_TOKEN_FILE:-}" ]; then
  if ! token=$(sed -n 1p "$SYNCPLANE_API_TOKEN_FILE"); then
    echo "resync: cannot read SYNCPLANE_API_TOKEN_FILE '$SYNCPLANE_API_TOKEN_FILE'" >&2; exit 2
  fi
  if [ -z "$token" ]; then echo "resync: SYNCPLANE_API_TOKEN_FILE '$SYNCPLANE_API_TOKEN_FILE' is empty" >&2; exit 2; fi
fi
case $token in
  *[[:space:][:cntrl:]]*) echo "resync: the API token must not contain spaces or control characters" >&2; exit 2 ;;
esac

url="${SYNCPLANE_URL%/}/v1/resync?wait=true&timeout=$timeout"
out=$(mktemp)
headers=$(mktemp) # mktemp makes it readable by its owner only
trap 'rm -f "$out" "$headers"' EXIT
trap 'exit 130' INT TERM
printf 'Content-Type: application/json\n' > "$headers"
if [ -n "$token" ]; then printf 'Authorization: Bearer %s\n' "$token" >> "$headers"; fi

echo "resync: POST $url $body" >&2
# curl's own deadline leaves syncplane time to answer 504 first.
if status=$(curl --fail-with-body -sS -X POST \
    -H @"$headers" --data "$body" \
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
  401) echo "resync: the API wants a valid token: set SYNCPLANE_API_TOKEN (or SYNCPLANE_API_TOKEN_FILE)" >&2 ;;
  000) echo "resync: could not reach syncplane at $SYNCPLANE_URL (curl exit $rc)" >&2 ;;
  *) echo "resync: request failed with HTTP $status" >&2 ;;
esac

if [ "$status" = 200 ]; then exit 0; fi
if [ "$rc" -ne 0 ] && [ "$status" = 000 ]; then exit "$rc"; fi
exit 1

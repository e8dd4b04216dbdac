#!/bin/sh
# The lab master by hand, for trying bbwatch (README: "Trying it against a local master").
#   test/support/lab/lab.sh start            master on 127.0.0.1:8010, worker on 9989, state in /tmp/bbwatch-lab
#   test/support/lab/lab.sh build "AMD64 Debian root 3.x" fail    pass | warn | flaky | fail | hang | crash | timeout | envrerun | compile | ...
#   test/support/lab/lab.sh change main fail "Jane Doe <jane@example.org>" "gh-12345: Fix the frobnicator"
#                                            a pushed change: builds every builder of its branch (main: 3.x)
#   test/support/lab/lab.sh stop
# Needs Debian's buildbot and buildbot-worker. BB_HTTP_PORT, BB_PB_PORT, LAB_DIR, LAB_BRANCHES,
# LAB_PLATFORMS, LAB_SILENCE_TIMEOUT change the defaults. LAB_BUILDBOT=test/support/lab4/bb4 runs a
# Buildbot 4.3 master (see that script); LAB_PRIVATE=1 a master that refuses anonymous reads (see master.cfg).
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
export LAB_DIR="${LAB_DIR:-/tmp/bbwatch-lab}" BB_HTTP_PORT="${BB_HTTP_PORT:-8010}" BB_PB_PORT="${BB_PB_PORT:-9989}"
export PYTHONDONTWRITEBYTECODE=1
URL="http://127.0.0.1:$BB_HTTP_PORT"
BUILDBOT=${LAB_BUILDBOT:-buildbot}
case "${1:-}" in
  start)
    mkdir -p "$LAB_DIR/scenario"
    [ -d "$LAB_DIR/master" ] || "$BUILDBOT" create-master -r "$LAB_DIR/master" >/dev/null
    ln -sf "$HERE/master.cfg" "$LAB_DIR/master/master.cfg"
    [ -d "$LAB_DIR/worker" ] || buildbot-worker create-worker -r "$LAB_DIR/worker" "127.0.0.1:$BB_PB_PORT" w1 pass >/dev/null
    PYTHONPATH="$HERE/pyext" "$BUILDBOT" start "$LAB_DIR/master" >/dev/null
    buildbot-worker start "$LAB_DIR/worker" >/dev/null 2>&1 || true
    jar=$(mktemp)
    for _ in $(seq 1 100); do
      # Logged in, so that a LAB_PRIVATE master answers too.
      curl -s -c "$jar" -u bot:botpass "$URL/auth/login" -o /dev/null
      curl -sf -b "$jar" "$URL/api/v2/workers" | grep -q '"connected_to": \[$' && break
      sleep 0.2
    done
    rm -f "$jar"
    echo "lab master at $URL/ (state in $LAB_DIR)"
    echo "run bbwatch on it:  LAB_URL=$URL/ npx bbwatch --config examples/lab.yaml"
    ;;
  build)
    [ -n "${2:-}" ] || { echo "usage: $0 build BUILDER [SCENARIO]" >&2; exit 2; }
    mkdir -p "$LAB_DIR/scenario"
    file=$(printf %s "$2" | tr -c 'A-Za-z0-9._-' '_')
    [ -z "${3:-}" ] || echo "$3" > "$LAB_DIR/scenario/$file"
    case "$2" in *custom) scheduler=custom ;; *) scheduler=force ;; esac
    jar=$(mktemp)
    curl -s -c "$jar" -u bot:botpass "$URL/auth/login" -o /dev/null
    curl -s -b "$jar" -X POST -H 'Content-Type: application/json' "$URL/api/v2/forceschedulers/$scheduler" \
      -d "{\"jsonrpc\":\"2.0\",\"method\":\"force\",\"id\":1,\"params\":{\"builderNames\":[\"$2\"]}}"
    echo
    rm -f "$jar"
    ;;
  change)
    [ -n "${3:-}" ] || { echo "usage: $0 change BRANCH SCENARIO [AUTHOR [COMMENTS]]" >&2; exit 2; }
    # A new revision each time, shaped like a git commit id.
    rev=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
    curl -s -X POST "$URL/change_hook/base" --data-urlencode "revision=$rev" \
      --data-urlencode "author=${4:-Jane Doe <jane@example.org>}" \
      --data-urlencode "comments=${5:-gh-12345: Fix the frobnicator}" --data-urlencode "branch=$2" \
      --data-urlencode "repository=https://github.com/python/cpython" --data-urlencode "project=cpython" \
      --data-urlencode "properties={\"lab_scenario\": \"$3\"}"
    echo; echo "change $rev on $2 ($3)"
    ;;
  stop)
    buildbot-worker stop "$LAB_DIR/worker" >/dev/null 2>&1 || true
    "$BUILDBOT" stop "$LAB_DIR/master" >/dev/null 2>&1 || true
    echo "lab stopped"
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac

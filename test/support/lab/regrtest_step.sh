#!/bin/sh
# The lab builders' test step: CPython's own regrtest (python3 -m test) over the lab tests.
# Scenario from $LAB_DIR/scenario/<builder> or $LAB_DIR/scenario/default:
#   pass | warn (env changed) | fail (test_ssl_lab fails twice) | flaky (fails, passes on re-run) | big:<MiB> (long log)
#   | failtail:<N> (fail, then N more lines after regrtest's summary: a reader must go past a tail window)
#   | slow:<S> (S seconds of a line every 5 s, then pass: a build to stop)
#   | hang (regrtest starts, then one test, test_threading_lab, never returns until Buildbot's
#     silence timeout, LAB_SILENCE_TIMEOUT in master.cfg, kills the step)
#   | crash (test_ctypes_lab aborts its worker process: `crashed (Exit code -6)`, regrtest's summary after it)
#   | timeout (test_socket_lab sleeps past regrtest's --timeout: faulthandler's `Timeout (0:00:03)!`)
#   | envrerun (test_os_lab changes the environment and test_ssl_lab fails once; -w re-runs it and it passes)
#   | compile (the compile step fails before this one: see compile_step.sh)
#   (exception is handled on the master, in master.cfg; should it reach this script it runs as pass)
B=$(printf %s "$1" | tr -c 'A-Za-z0-9._-' '_')
# A change's lab_scenario property (master.cfg passes it as LAB_CHANGE_SCENARIO) comes first.
S=${LAB_CHANGE_SCENARIO:-$(cat "$LAB_DIR/scenario/$B" 2>/dev/null || cat "$LAB_DIR/scenario/default" 2>/dev/null || echo pass)}
HERE=$(cd "$(dirname "$0")" && pwd)
# Debian's python3 ships regrtest (the `test` package) in libpython3.X-stdlib; a pyenv or venv python3
# earlier on PATH may not, so prefer the system one.
PY=${LAB_PYTHON:-python3}
[ -z "${LAB_PYTHON:-}" ] && [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
TAIL=
case $S in
  big:*) MB=${S#big:}; "$PY" -c "
import sys
line = 'x' * (2*1024*1024) + '\n'
for i in range(int('$MB') // 2): sys.stdout.write(line)"; S=pass;;
  failtail:*) TAIL=${S#failtail:}; S=fail;;
  exception) S=pass;;
  # A line every 5 s: the step is never silent long enough for Buildbot's silence timeout.
  slow:*) i=0; while [ $i -lt "${S#slow:}" ]; do echo "waiting ($i s)"; sleep 5; i=$((i+5)); done; S=pass;;
esac
export LAB_SCENARIO=$S
SEED=${LAB_SEED:-$(( $(date +%s) % 10000000 ))}
rm -f stray-file-from-test_os_lab
T=${LAB_TESTS:-$HERE/tests}
if [ -n "${TAIL:-}" ]; then
  "$PY" -m test --testdir "$T" -uall -r -w --randseed "$SEED" $(cd "$T" && ls test_*.py | sed "s/\.py$//"); rc=$?
  "$PY" -c "import sys; [print('trailing line', i) for i in range(int(sys.argv[1]))]" "$TAIL"; exit $rc
fi
# with_test NAME BODY: the lab's tests plus one more (a unittest method's body), in a scratch copy in
# the build directory (under LAB_DIR, so it goes with the lab); T then names the copy.
with_test() {
  H="$PWD/$S-tests"; rm -rf "$H"; mkdir -p "$H"; cp "$T"/test_*.py "$H"/
  printf 'import os, time, unittest\nclass LabTests(unittest.TestCase):\n    def test_it(self):\n        %s\n' "$2" > "$H/$1.py"
  T=$H
}
case $S in
  # regrtest prints its progress, then nothing, until Buildbot's silence timeout kills the step.
  hang) with_test test_threading_lab 'time.sleep(3600)'
    exec "$PY" -m test --testdir "$T" -uall -r -w --randseed "$SEED" $(cd "$T" && ls test_*.py | sed "s/\.py$//");;
  # In parallel (-j2) as CPython's buildbots run: the worker dies with SIGABRT and regrtest goes on.
  # No -w: 3.11 re-runs a failed test in its main process, which the abort would kill too.
  crash) with_test test_ctypes_lab 'os.abort()'
    exec "$PY" -m test --testdir "$T" -uall -r -j2 --randseed "$SEED" $(cd "$T" && ls test_*.py | sed "s/\.py$//");;
  # regrtest's --timeout: faulthandler dumps the worker's threads (`Timeout (0:00:03)!`) and exits.
  timeout) with_test test_socket_lab 'time.sleep(60)'
    exec "$PY" -m test --testdir "$T" -uall -r -j2 --timeout 3 --randseed "$SEED" $(cd "$T" && ls test_*.py | sed "s/\.py$//");;
  # --fail-env-changed makes the changed environment fail the build; -w re-runs the failed test.
  envrerun)
    exec "$PY" -m test --testdir "$T" -uall -r -w -j2 --fail-env-changed --randseed "$SEED" $(cd "$T" && ls test_*.py | sed "s/\.py$//");;
esac
exec "$PY" -m test --testdir "$T" -uall -r -w --randseed "$SEED" $(cd "$T" && ls test_*.py | sed "s/\.py$//")

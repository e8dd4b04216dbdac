#!/bin/sh
# The lab builders' test step: CPython's own regrtest (python3 -m test) over the lab tests.
# Scenario from $LAB_DIR/scenario/<builder> or $LAB_DIR/scenario/default:
#   pass | warn (env changed) | fail (test_ssl_lab fails twice) | flaky (fails, passes on re-run) | big:<MiB> (long log) | slow:<seconds> (sleeps, then passes)
#   | failtail:<N> (fail, then N more lines after regrtest's summary: a reader must go past a tail window)
#   (exception is handled on the master, in master.cfg; should it reach this script it runs as pass)
B=$(printf %s "$1" | tr -c 'A-Za-z0-9._-' '_')
S=$(cat "$LAB_DIR/scenario/$B" 2>/dev/null || cat "$LAB_DIR/scenario/default" 2>/dev/null || echo pass)
HERE=$(cd "$(dirname "$0")" && pwd)
# Debian's python3 ships regrtest (the `test` package) in libpython3.X-stdlib; a pyenv or venv python3
# earlier on PATH may not, so prefer the system one.
PY=${LAB_PYTHON:-python3}
[ -z "${LAB_PYTHON:-}" ] && [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
case $S in
  big:*) MB=${S#big:}; "$PY" -c "
import sys
line = 'x' * (2*1024*1024) + '\n'
for i in range(int('$MB') // 2): sys.stdout.write(line)"; S=pass;;
  exception) S=pass;;
  failtail:*) TAIL=${S#failtail:}; S=fail;;
  slow:*) sleep "${S#slow:}"; S=pass;;
esac
export LAB_SCENARIO=$S
SEED=${LAB_SEED:-$(( $(date +%s) % 10000000 ))}
rm -f stray-file-from-test_os_lab
T=${LAB_TESTS:-$HERE/tests}
if [ -n "${TAIL:-}" ]; then
  "$PY" -m test --testdir "$T" -uall -r -w --randseed "$SEED" $(cd "$T" && ls test_*.py | sed "s/\.py$//"); rc=$?
  "$PY" -c "import sys; [print('trailing line', i) for i in range(int(sys.argv[1]))]" "$TAIL"; exit $rc
fi
exec "$PY" -m test --testdir "$T" -uall -r -w --randseed "$SEED" $(cd "$T" && ls test_*.py | sed "s/\.py$//")

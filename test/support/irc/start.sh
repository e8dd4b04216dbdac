#!/bin/bash
# Starts an IRC lab: InspIRCd 3 on 127.0.0.1:$IRC_PORT linked to Anope 2.0 services, with
# NickServ accounts pre-registered, and waits until SASL logins work for every account.
#
#   IRC_LAB_DIR=/tmp/irc1 [IRC_PORT=6667] ./start.sh
#
# Environment:
#   IRC_LAB_DIR        runtime directory (required); configs, logs, pids and the Anope db live here
#   IRC_PORT           client port on 127.0.0.1 (default 6667, plain text)
#   IRC_LINK_PORT      server-link port for services (default IRC_PORT+10000, or -10000 if that is >65535)
#   IRC_ACCOUNTS       "name:password ..." to pre-register
#                      (default "alice:alicepass mallory:mallorypass bbwatch:botpass")
#   IRC_FAKELAG        yes|no  InspIRCd's stock flood throttling for clients (default yes: a burst
#                      of ~10 lines, then 1 line/s; excess lines are delayed). no = unlimited
#   IRC_LAB_FRESH=1    throw away the services database (accounts/channels registered by tests)
#   IRC_START_TIMEOUT  seconds to wait for readiness (default 20)
#   IRC_TLS_PORT       also listen with TLS on this port (GnuTLS, a self-signed certificate for
#                      127.0.0.1/localhost made on first start in $IRC_LAB_DIR/tls/server.pem, which is
#                      what a client trusts as its CA); clients' certificates are asked for, so SASL
#                      EXTERNAL works for accounts seeded with a fingerprint (IRC_ACCOUNTS name:pass:certfp)
# Prints one line when up and exits 0; prints diagnostics and exits 1 otherwise.
# Re-running it on a lab that is up only re-checks readiness ("already up").
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
T0=$(date +%s.%N)
: "${IRC_LAB_DIR:?set IRC_LAB_DIR to a runtime directory, e.g. /tmp/irclab}"
mkdir -p "$IRC_LAB_DIR"
D=$(cd "$IRC_LAB_DIR" && pwd)
IRC_PORT=${IRC_PORT:-6667}
if [ -z "${IRC_LINK_PORT:-}" ]; then
  IRC_LINK_PORT=$((IRC_PORT + 10000)); [ "$IRC_LINK_PORT" -le 65535 ] || IRC_LINK_PORT=$((IRC_PORT - 10000))
fi
IRC_ACCOUNTS=${IRC_ACCOUNTS:-"alice:alicepass mallory:mallorypass bbwatch:botpass"}
IRC_FAKELAG=${IRC_FAKELAG:-yes}
IRC_START_TIMEOUT=${IRC_START_TIMEOUT:-20}
IRC_TLS_PORT=${IRC_TLS_PORT:-}
LINK_PASS=irclab-link-pass

die() { echo "irc lab: $*" >&2; exit 1; }
elapsed() { python3 -c "import time;print('%.2f' % (time.time()-$T0))"; }
# pid_ok NAME: the pid in run/NAME.pid is alive and is this lab's daemon (guards against pid reuse)
pid_ok() {
  local f="$D/run/$1.pid" pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$D/" || return 1
}
# alive NAME: during startup, where the pid may not have exec'd the daemon yet (zombies = dead)
alive() {
  local pid; pid=$(cat "$D/run/$1.pid" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ]
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
acct_names() { local a out=""; for a in $IRC_ACCOUNTS; do out="$out${out:+ }${a%%:*}"; done; echo "$out"; }
# name:password of an account spec name:password[:certfp]
acct_login() { local name=${1%%:*} rest=${1#*:}; echo "$name:${rest%%:*}"; }
log_tail() { for f in "$@"; do [ -f "$f" ] && { echo "--- $f (tail)" >&2; tail -n 15 "$f" >&2; }; done; return 0; }

# SASL-login every account in parallel; succeeds only when services are linked and accounts usable.
check_accounts() {
  local pids=() acct n=0 rc=0
  for acct in $IRC_ACCOUNTS; do
    n=$((n + 1))
    python3 "$HERE/client.py" -p "$IRC_PORT" -n "labchk$$x$n" --sasl "$(acct_login "$acct")" --seconds 0 \
      --connect-timeout 5 --quit-msg "lab readiness check" >/dev/null 2>"$D/run/check.$n.err" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}

exec 9>"$D/.start.lock"
flock -w 60 9 || die "another start.sh/stop.sh holds $D/.start.lock"

if pid_ok inspircd && pid_ok anope; then
  # shellcheck disable=SC1091
  [ -f "$D/lab.env" ] && . "$D/lab.env"
  if check_accounts; then
    echo "irc lab already up: 127.0.0.1:$IRC_PORT (services linked, SASL ok: $(acct_names)) dir=$D checked in $(elapsed)s"
    exit 0
  fi
  echo "irc lab: running but not healthy, restarting" >&2
fi
if pid_ok inspircd || pid_ok anope; then
  IRC_LAB_DIR="$D" "$HERE/stop.sh" >/dev/null
fi

for p in "$IRC_PORT" "$IRC_LINK_PORT" $IRC_TLS_PORT; do
  port_busy "$p" && die "port $p on 127.0.0.1 is already in use (pick another IRC_PORT / IRC_LINK_PORT)"
done

mkdir -p "$D/run" "$D/logs" "$D/anope/conf" "$D/anope/data/backups" "$D/anope/logs"
[ "${IRC_LAB_FRESH:-0}" = 1 ] && rm -f "$D"/anope/data/anope.db*
for f in "$D"/logs/*.log "$D"/logs/*.out; do [ -f "$f" ] && mv -f "$f" "$f.prev"; done
rm -f "$D"/run/*.pid "$D"/run/check.*.err
: > "$D/motd.txt"
if [ "$IRC_FAKELAG" = no ]; then THRESHOLD=1000000 COMMANDRATE=1000000; else THRESHOLD=10 COMMANDRATE=1000; fi
render() {
  sed -e "s|@IRC_PORT@|$IRC_PORT|g; s|@IRC_LINK_PORT@|$IRC_LINK_PORT|g; s|@LINK_PASS@|$LINK_PASS|g" \
      -e "s|@IRC_LAB_DIR@|$D|g; s|@COMMANDRATE@|$COMMANDRATE|g; s|@THRESHOLD@|$THRESHOLD|g" "$1" > "$2"
}
render "$HERE/templates/inspircd.conf.in" "$D/inspircd.conf"
render "$HERE/templates/services.conf.in" "$D/anope/conf/services.conf"
install -m 644 "$HERE/templates/chanserv.conf" "$D/anope/conf/chanserv.conf"
if [ -n "$IRC_TLS_PORT" ]; then
  mkdir -p "$D/tls"
  if [ ! -s "$D/tls/server.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=irc.lab \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      -keyout "$D/tls/server.key" -out "$D/tls/server.pem" 2>/dev/null || die "openssl could not make a certificate"
  fi
  chmod 644 "$D/tls/server.pem" "$D/tls/server.key"
  cat >> "$D/inspircd.conf" <<EOF

# TLS listener (IRC_TLS_PORT). Client certificates are requested, never required: their
# fingerprints reach services (SASL EXTERNAL, NickServ CERT).
<module name="ssl_gnutls">
<module name="sslinfo">
<sslprofile name="lab" provider="gnutls" certfile="$D/tls/server.pem" keyfile="$D/tls/server.key" dhfile="" hash="sha256" requestclientcert="yes">
<bind address="127.0.0.1" port="$IRC_TLS_PORT" type="clients" sslprofile="lab">
EOF
fi
chmod 644 "$D/inspircd.conf" "$D/anope/conf/services.conf" "$D/motd.txt"
# shellcheck disable=SC2086
python3 "$HERE/seed_accounts.py" "$D/anope/data/anope.db" $IRC_ACCOUNTS >/dev/null

# Run the daemons unprivileged: InspIRCd refuses root without --runasroot, and Anope run as
# root (uid 0 + gid 0) prints a warning and sleeps 3 s. Debian's 'irc' user is what the
# packaged services use too.
RUNAS=()
if [ "$(id -u)" = 0 ]; then
  if getent passwd irc >/dev/null && command -v setpriv >/dev/null; then
    RUNAS=(setpriv --reuid=irc --regid=irc --init-groups)
    chown -R irc:irc "$D/run" "$D/logs" "$D/anope/data" "$D/anope/logs"
    setpriv --reuid=irc --regid=irc --init-groups test -r "$D/inspircd.conf" \
      || die "user irc cannot read $D (use a directory under /tmp)"
    INSP_ROOT=()
  else
    INSP_ROOT=(--runasroot)
  fi
else
  INSP_ROOT=()
fi

cat > "$D/lab.env" <<EOF
IRC_HOST=127.0.0.1
IRC_PORT=$IRC_PORT
IRC_LINK_PORT=$IRC_LINK_PORT
IRC_TLS_PORT=$IRC_TLS_PORT
IRC_LAB_DIR=$D
IRC_ACCOUNTS="$IRC_ACCOUNTS"
EOF

# setsid does not fork here (a background job is not a group leader), so $! is the daemon's pid.
setsid "${RUNAS[@]}" /usr/sbin/inspircd --config "$D/inspircd.conf" --nofork "${INSP_ROOT[@]}" \
  </dev/null >"$D/logs/inspircd.out" 2>&1 9>&- &
echo $! > "$D/run/inspircd.pid"

deadline=$(( $(date +%s) + IRC_START_TIMEOUT ))
# (InspIRCd buffers its log file, so readiness is probed over the sockets, not read from logs.)
until port_busy "$IRC_PORT"; do
  alive inspircd || { log_tail "$D/logs/inspircd.out" "$D/logs/inspircd.log"; die "inspircd exited during startup"; }
  [ "$(date +%s)" -lt "$deadline" ] || { log_tail "$D/logs/inspircd.log"; IRC_LAB_DIR="$D" "$HERE/stop.sh" >/dev/null; die "inspircd did not start in ${IRC_START_TIMEOUT}s"; }
  sleep 0.02
done

setsid "${RUNAS[@]}" /usr/sbin/anope --nofork --confdir="$D/anope/conf" --dbdir="$D/anope/data" \
  --logdir="$D/anope/logs" --modulesdir=/usr/lib/anope --localedir=/usr/share/anope/locale \
  </dev/null >"$D/logs/anope.out" 2>&1 9>&- &
echo $! > "$D/run/anope.pid"

# Ready = every account can log in over SASL. Until services have linked, the server does not
# offer the sasl cap and each probe fails within a few ms.
until check_accounts; do
  if [ "$(date +%s)" -ge "$deadline" ] || ! alive anope || ! alive inspircd; then
    cat "$D"/run/check.*.err >&2 || true
    log_tail "$D/logs/anope.out"
    IRC_LAB_DIR="$D" "$HERE/stop.sh" >/dev/null
    die "services not linked or accounts not usable via SASL after ${IRC_START_TIMEOUT}s"
  fi
  sleep 0.05
done

echo "irc lab up: 127.0.0.1:$IRC_PORT (services linked, SASL ok: $(acct_names)) dir=$D in $(elapsed)s"

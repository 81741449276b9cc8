#!/usr/bin/env bash
# Record real IMAP captures with ground truth for imapscope.
#
#   sudo bash scripts/record-captures.sh [SCENARIO...]
#
# Runs a private Dovecot (config: scripts/record/dovecot.conf.tmpl) inside a
# network namespace of its own (loopback only, MTU 1500, offloads off), lets
# real clients talk to it while tcpdump records, and writes
#   captures/<name>.pcap|.pcapng   the capture
#   captures/<name>/               manifest.json, conn-<port>.{c2s,s2c}.bin
#                                  stitched from Dovecot's rawlogs, rawlog/
# Each stitched stream is checked against tshark's reassembly of the capture
# (scripts/record/stitch.py); a difference aborts the run.
# Without arguments every scenario is recorded. Mailbox content is rebuilt
# from scripts/record/messages before each scenario, so reruns produce the
# same IMAP content (timestamps, ports and pids differ).
#
# Environment: OUT=dir (default captures/), KEEP_TMP=1 keeps the work dir.
# Exit codes: 0 ok, 1 recording/verification failed, 2 missing prerequisites.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REC=$REPO/scripts/record
OUT=${OUT:-$REPO/captures}
PY=${PYTHON:-python3}
ALL_SCENARIOS=(seed-alice seed-bob mbsync offlineimap fetchmail curl append-idle imaps-tls13 starttls-tls12)
SNAPLEN=262144

log() { printf '\n== %s\n' "$*"; }
fail() { printf 'record-captures: ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites
if [ "$(id -u)" -ne 0 ]; then
  echo "record-captures: must run as root (network namespaces, tcpdump): sudo bash $0" >&2
  exit 2
fi
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 (Debian package $2)"); }
need dovecot dovecot-imapd
need tcpdump tcpdump
need tshark tshark
need editcap wireshark-common
need capinfos wireshark-common
need mbsync isync
need fetchmail fetchmail
need offlineimap offlineimap3
need curl curl
need "$PY" python3
need openssl openssl
need ip iproute2
need ethtool ethtool
[ -x /usr/lib/dovecot/imap-login ] || missing+=("/usr/lib/dovecot/imap-login (Debian package dovecot-imapd)")
[ -e /usr/lib/dovecot/modules/lib30_imap_zlib_plugin.so ] || missing+=("Dovecot imap_zlib plugin (Debian package dovecot-imapd)")
getent passwd dovenull >/dev/null || missing+=("user dovenull (created by dovecot-core)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "record-captures: missing prerequisites:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  echo "install with: apt-get install dovecot-imapd tcpdump tshark isync fetchmail offlineimap3 curl python3 openssl iproute2 ethtool" >&2
  exit 2
fi

SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=("${ALL_SCENARIOS[@]}")
for s in "${SCENARIOS[@]}"; do
  [[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || { echo "unknown scenario $s (known: ${ALL_SCENARIOS[*]})" >&2; exit 2; }
done

# ---------------------------------------------------------------- work dir, namespace, cleanup
T=$(mktemp -d /tmp/imapscope-rec.XXXXXX)
chmod 755 "$T"
NS=imapscope-rec-$$
MAILUID=$(id -u nobody)
MAILGID=$(id -g nobody)
DOVECOT_PID=
TCPDUMP_PID=

stop_pid() { # stop one process we started, by its pid, and wait for it
  local pid=$1 sig=${2:-TERM} i
  [ -n "$pid" ] || return 0
  kill -s "$sig" "$pid" 2>/dev/null || return 0
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -s KILL "$pid" 2>/dev/null || true
}
cleanup() {
  set +e
  stop_pid "$TCPDUMP_PID" INT
  stop_pid "$DOVECOT_PID"
  ip netns del "$NS" 2>/dev/null
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "work dir kept: $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

nsx() { ip netns exec "$NS" "$@"; }

log "namespace $NS: lo up, MTU 1500, segmentation offloads off"
ip netns add "$NS"
nsx ip link set lo mtu 1500
nsx ip link set lo up
nsx ethtool -K lo tso off gso off gro off >/dev/null

# ---------------------------------------------------------------- Dovecot
log "private Dovecot in $T"
mkdir -p "$T"/{run,state,ssl,home,rawlog/pre,rawlog/post,clients}
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
  -subj /CN=imap.example.test -addext subjectAltName=DNS:imap.example.test,IP:127.0.0.1 \
  -keyout "$T/ssl/key.pem" -out "$T/ssl/cert.pem" 2>/dev/null
openssl dhparam -dsaparam -out "$T/ssl/dh.pem" 2048 2>/dev/null
chmod 644 "$T/ssl/cert.pem"
{
  echo "alice:{PLAIN}alice-pw:$MAILUID:$MAILGID::$T/home/alice::"
  echo "bob:{PLAIN}bob-pw:$MAILUID:$MAILGID::$T/home/bob::"
} > "$T/users"
sed -e "s#@T@#$T#g" -e "s#@MAILUID@#$MAILUID#g" "$REC/dovecot.conf.tmpl" > "$T/dovecot.conf"
chown "$MAILUID:$MAILGID" "$T/home" "$T/rawlog/post"
chown dovenull "$T/rawlog/pre"
: > "$T/dovecot.log"

reset_mailboxes() {
  local u
  for u in alice bob; do
    rm -rf "${T:?}/home/$u"
    mkdir -p "$T/home/$u"
    echo "  mailbox content of $u:"
    "$PY" "$REC/build_mailboxes.py" "$REC/messages" "$T/home/$u/Maildir" | sed 's/^/  /'
    chown -R "$MAILUID:$MAILGID" "$T/home/$u"
  done
}

nsx dovecot -c "$T/dovecot.conf"
for i in $(seq 1 50); do [ -s "$T/run/master.pid" ] && break; sleep 0.1; done
DOVECOT_PID=$(cat "$T/run/master.pid")
for i in $(seq 1 50); do nsx ss -ltn | grep -q '127.0.0.1:143 ' && break; sleep 0.1; done
echo "dovecot master pid $DOVECOT_PID, listening on 127.0.0.1:143 and :993 in $NS"

# ---------------------------------------------------------------- one recording
# record NAME CLIENT-DESCRIPTION EXT LINKTYPE-DESC TCPDUMP-ARGS... -- COMMAND...
record() {
  local name=$1 client=$2 ext=$3 linkdesc=$4; shift 4
  local tdargs=() cmd
  while [ "$1" != "--" ]; do tdargs+=("$1"); shift; done; shift
  local pcap=$T/$name.pcap logstart
  log "scenario $name: $client"
  reset_mailboxes
  rm -rf "$T/rawlog/pre"/* "$T/rawlog/post"/* "$T/plain"
  mkdir -p "$T/plain"
  logstart=$(stat -c %s "$T/dovecot.log")
  # started without the nsx function so that $! is tcpdump's own pid
  ip netns exec "$NS" tcpdump -Z root -n -s "$SNAPLEN" -U "${tdargs[@]}" -w "$pcap" \
    'tcp port 143 or tcp port 993' 2> "$T/tcpdump.err" &
  TCPDUMP_PID=$!
  for i in $(seq 1 100); do grep -q 'listening on' "$T/tcpdump.err" && break; sleep 0.1; done
  grep -q 'listening on' "$T/tcpdump.err" || fail "tcpdump did not start: $(cat "$T/tcpdump.err")"
  sleep 0.3
  echo "  running: $*"
  if ! nsx env HOME="$T/clients" PLAIN_DIR="$T/plain" "$@" > "$T/client.out" 2>&1; then
    cat "$T/client.out" >&2
    fail "client of scenario $name failed"
  fi
  sed 's/^/  | /' "$T/client.out" | head -40
  # let FIN/ACKs and Dovecot's last rawlog writes happen, then stop tcpdump
  sleep 1.5
  stop_pid "$TCPDUMP_PID" INT
  TCPDUMP_PID=
  grep -E 'packets (captured|dropped by kernel)' "$T/tcpdump.err" | sed 's/^/  tcpdump: /'
  grep -qx '0 packets dropped by kernel' "$T/tcpdump.err" || fail "tcpdump dropped packets"
  tail -c +"$((logstart + 1))" "$T/dovecot.log" > "$T/scenario.log"
  if grep -E 'Error|Fatal|Panic' "$T/scenario.log"; then fail "Dovecot logged errors in $name"; fi
  local final=$OUT/$name.$ext
  mkdir -p "$OUT"
  if [ "$ext" = pcapng ]; then
    editcap -F pcapng "$pcap" "$final"
  else
    cp "$pcap" "$final"
  fi
  local plainargs=()
  [ -n "$(ls -A "$T/plain")" ] && plainargs=(--plain-dir "$T/plain")
  [ -n "${KEYLOG:-}" ] && plainargs+=(--keylog "$KEYLOG")
  "$PY" "$REC/stitch.py" --capture "$final" --rawlog "$T/rawlog" --log "$T/scenario.log" \
    --out "$OUT/$name" --scenario "$name" --client "$client" \
    --link-type "$linkdesc" --format "$(capinfos_format "$final")" "${plainargs[@]}" \
    || fail "ground truth of $name does not match the capture"
  echo "  wrote $final ($(stat -c %s "$final") bytes, $(capinfos -c -M "$final" | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}') packets, $(capinfos -E "$final" | awk -F': *' '/encapsulation/ {print $2}')) and $OUT/$name/"
}
capinfos_format() { capinfos -t -M "$1" | awk -F': *' '/File type/ {print $2}'; }

# ---------------------------------------------------------------- scenarios
scenario_seed() { # seed-alice / seed-bob
  local user=$1
  record "seed-$user" "Python imaplib (scripts/record/seed_client.py, desktop-client imitation)" pcap \
    "Ethernet (DLT 1), microsecond pcap" -i lo -- \
    "$PY" "$REC/seed_client.py" 127.0.0.1 143 "$user" "$user-pw"
}

scenario_mbsync() {
  mkdir -p "$T/clients/mbsync/alice"
  cat > "$T/clients/mbsyncrc" <<EOF
IMAPAccount alice
Host 127.0.0.1
Port 143
User alice
Pass alice-pw
SSLType None
AuthMechs LOGIN

IMAPStore alice-remote
Account alice

MaildirStore alice-local
Path $T/clients/mbsync/alice/
Inbox $T/clients/mbsync/alice/INBOX
SubFolders Verbatim

Channel alice
Far :alice-remote:
Near :alice-local:
Patterns *
Create Near
Sync Pull
SyncState *
EOF
  record mbsync "mbsync (isync $(mbsync --version | awk '{print $2}')), pull sync of alice into a local maildir" pcap \
    "Ethernet (DLT 1), microsecond pcap" -i lo -- \
    mbsync -V -c "$T/clients/mbsyncrc" alice
}

scenario_offlineimap() {
  mkdir -p "$T/clients/offlineimap/bob" "$T/clients/offlineimap/meta"
  cat > "$T/clients/offlineimaprc" <<EOF
[general]
accounts = bob
metadata = $T/clients/offlineimap/meta
ui = basic
maxsyncaccounts = 1

[Account bob]
localrepository = bob-local
remoterepository = bob-remote

[Repository bob-local]
type = Maildir
localfolders = $T/clients/offlineimap/bob

[Repository bob-remote]
type = IMAP
remotehost = 127.0.0.1
remoteport = 143
remoteuser = bob
remotepass = bob-pw
ssl = no
starttls = no
maxconnections = 3
readonly = True
EOF
  record offlineimap "offlineimap3 $(offlineimap --version 2>/dev/null | tail -1), one-shot sync of bob (parallel connections)" pcapng \
    "Ethernet (DLT 1), pcapng (converted with editcap -F pcapng)" -i lo -- \
    offlineimap -c "$T/clients/offlineimaprc" -o -u basic
}

scenario_fetchmail() {
  cat > "$T/clients/fetchmailrc" <<EOF
set no syslog
poll 127.0.0.1 protocol IMAP port 143 auth password
  user "alice" password "alice-pw" is "root" here
  sslproto '' keep fetchall
  mda "cat >/dev/null"
EOF
  chmod 600 "$T/clients/fetchmailrc"
  record fetchmail "fetchmail $(fetchmail --version 2>/dev/null | awk '/release/ {sub(/\+.*/, "", $5); print $5; exit}') -k -a, LOGIN, MDA discards" pcap \
    "Ethernet (DLT 1), nanosecond pcap" -i lo --time-stamp-precision=nano -- \
    fetchmail -N -f "$T/clients/fetchmailrc" --idfile "$T/clients/fetchids" -k -a -v --mda 'cat >/dev/null'
}

scenario_curl() {
  cat > "$T/clients/curl.sh" <<'EOF'
set -e
c() { echo "+ curl $*"; curl -sS --user alice:alice-pw "$@"; echo; }
c 'imap://127.0.0.1/'
c 'imap://127.0.0.1/INBOX;UID=1'
c 'imap://127.0.0.1/INBOX;UID=4;SECTION=1'
c 'imap://127.0.0.1/INBOX;UID=3;SECTION=HEADER.FIELDS%20(SUBJECT%20FROM)'
c 'imap://127.0.0.1/INBOX?SUBJECT%20planning'
EOF
  record curl "curl $(curl --version | awk 'NR==1 {print $2}'): list, fetch by UID, fetch sections, search (AUTHENTICATE PLAIN with SASL-IR)" pcap \
    "Linux cooked v2 (LINUX_SLL2, 276), microsecond pcap" -i any -- \
    bash "$T/clients/curl.sh"
}

scenario_append_idle() {
  record append-idle "Python imaplib (scripts/record/append_idle.py)" pcap \
    "Ethernet (DLT 1), microsecond pcap" -i lo -- \
    "$PY" "$REC/append_idle.py" 127.0.0.1 143 alice alice-pw
}

scenario_tls() { # imaps-tls13 / starttls-tls12
  local name=$1 mode=$2
  KEYLOG=$T/keylog-$name.txt record "$name" "Python imaplib + ssl ($mode), key log written by the client" pcap \
    "Ethernet (DLT 1), microsecond pcap" -i lo -- \
    "$PY" "$REC/tls_client.py" "$mode" 127.0.0.1 alice alice-pw "$T/keylog-$name.txt"
  cp "$T/keylog-$name.txt" "$OUT/$name.keys"
  if [ "$name" = imaps-tls13 ]; then
    grep -E '^(CLIENT|SERVER)_TRAFFIC_SECRET_0 ' "$T/keylog-$name.txt" > "$OUT/$name.app-secrets-only.keys"
    echo "  application-secrets-only key log: $OUT/$name.app-secrets-only.keys"
  fi
  # the same capture as pcapng with the key log in a Decryption Secrets Block
  editcap --inject-secrets "tls,$T/keylog-$name.txt" -F pcapng "$OUT/$name.pcap" "$OUT/$name/$name.dsb.pcapng"
  echo "  with embedded secrets (DSB): $OUT/$name/$name.dsb.pcapng"
  echo "  key log: $OUT/$name.keys"
}

for s in "${SCENARIOS[@]}"; do
  case $s in
    seed-alice) scenario_seed alice ;;
    seed-bob) scenario_seed bob ;;
    mbsync) scenario_mbsync ;;
    offlineimap) scenario_offlineimap ;;
    fetchmail) scenario_fetchmail ;;
    curl) scenario_curl ;;
    append-idle) scenario_append_idle ;;
    imaps-tls13) scenario_tls imaps-tls13 tls13 ;;
    starttls-tls12) scenario_tls starttls-tls12 starttls12 ;;
  esac
done

log "done"
ls -l "$OUT"

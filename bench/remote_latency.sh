#!/bin/bash
# What a remote call costs: `berth version` (a ping and a GET /version, one process start each)
# against one berthd over its unix socket, over mutual TLS on a loopback port, and over SSH
# (a throwaway sshd on a loopback port running `berth system dial-stdio`), side by side with
# hyperfine. Loopback hides the network's round trips: what is left is the transports' own
# cost (TLS handshake, ssh start-up and key exchange).
# Usage: sudo bench/remote_latency.sh [runs=50]      (needs hyperfine, openssl, openssh-server)
source "$(dirname "$0")/lib.sh"
need hyperfine openssl /usr/sbin/sshd ssh-keygen python3
RUNS=${1:-50}
SSHD_PID=""
finish() {
  [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
  cleanup
}
trap finish EXIT
REMOTE="$REPO/tests/remote"

echo "# certificates and sshd in $WORK"
python3 -c "import sys; sys.path.insert(0, '$REMOTE'); import certs; certs.make('$WORK/certs')"
python3 "$REMOTE/sshd.py" "$WORK/sshd" >"$WORK/sshd.log" 2>&1 &
SSHD_PID=$!
for _ in $(seq 1 200); do [ -s "$WORK/sshd/port" ] && break; sleep 0.05; done
SSH_PORT=$(cat "$WORK/sshd/port")
ln -sf "$BERTH" "$WORK/sshd/remote-bin/berth"

TLS_PORT=23761
mkdir -p "$WORK/berth"
C="$WORK/certs"
cat >"$WORK/berth/daemon.json" <<JSON
{"tlsverify": true, "tlscacert": "$C/ca.pem", "tlscert": "$C/server.pem", "tlskey": "$C/server-key.pem"}
JSON
"$BUILD/bin/berthd" --config "$WORK/berth/daemon.json" --data-root "$WORK/berth/data" \
  --exec-root "$WORK/berth/exec" --isolation-backend none --host "unix://$WORK/berth.sock" \
  --host "tcp://127.0.0.1:$TLS_PORT" --log-level warn >"$WORK/berthd.log" 2>&1 &
BERTHD_PID=$!
PIDS+=("$BERTHD_PID")
for _ in $(seq 1 200); do [ -S "$WORK/berth.sock" ] && break; sleep 0.05; done
export BERTH_HOST="unix://$WORK/berth.sock"  # for stop_berthd; -H below wins over it

UNIX="$BERTH -H unix://$WORK/berth.sock version"
TLS="$BERTH --tlsverify --tlscacert $C/ca.pem --tlscert $C/cert.pem --tlskey $C/key.pem -H tcp://127.0.0.1:$TLS_PORT version"
SSH="env PATH=$WORK/sshd/client-bin:$PATH $BERTH -H ssh://root@127.0.0.1:$SSH_PORT$WORK/berth.sock version"
for cmd in "$UNIX" "$TLS" "$SSH"; do $cmd >/dev/null || { echo "bench: failed: $cmd" >&2; exit 1; }; done

echo "# hyperfine, $RUNS runs each"
# ssh's path includes the `env` and `sh` wrapper processes (the test's -F config): about 2 ms.
hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown "$WORK/latency.md" \
  -n unix "$UNIX" -n "TLS (mutual, loopback)" "$TLS" -n "SSH (loopback)" "$SSH" \
  -n "ssh alone (ssh host true)" "env PATH=$WORK/sshd/client-bin:$PATH ssh -p $SSH_PORT root@127.0.0.1 true" >/dev/null
echo
cat "$WORK/latency.md"

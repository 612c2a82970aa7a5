#!/usr/bin/env bash
# The main example across three OS processes on a local NATS JetStream server: starts nats-server on 127.0.0.1 with
# a temporary store, runs `access_log --nats URL --role read|parse|aggregate` each in its own process (and
# `--role orchestrate` following their lifecycle records and heartbeats), compares the
# CSV with a single-process run's, and stops the server (by its process id) at the end.
#
#   bash scripts/access-log-on-nats.sh [LINES]        # default 1,000,000 lines; needs nats-server (apt-get install nats-server)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
port=${NATS_PORT:-4222}
command -v nats-server >/dev/null || { echo "nats-server is missing: apt-get install nats-server"; exit 1; }
cargo build --quiet --release --features nats --example access_log
example=target/release/examples/access_log
work=$(mktemp -d)
nats-server -js -a 127.0.0.1 -p "$port" -sd "$work/store" >"$work/nats-server.log" 2>&1 &
server=$!
roles=()
# On any exit, the roles still running too: without their server they would wait for it forever.
trap 'status=$?; kill "${roles[@]}" "$server" 2>/dev/null; wait "$server" 2>/dev/null || true
      [ "$status" = 0 ] || tail -n 3 "$work"/*.log' EXIT
# Its own server, not one already listening there (its streams would hold another run's records): ready in its log.
for _ in $(seq 100); do grep -q "Server is ready" "$work/nats-server.log" && break; kill -0 "$server" 2>/dev/null || break; sleep 0.05; done
grep -q "Server is ready" "$work/nats-server.log" || {
    cat "$work/nats-server.log"; echo "nats-server did not start on 127.0.0.1:$port (in use? set NATS_PORT)"; exit 1; }
url="nats://127.0.0.1:$port"
echo "nats-server on $url, store and logs in $work"

started=$(date +%s.%N)
"$example" --nats "$url" --role orchestrate >"$work/orchestrate.log" 2>&1 &
orchestrate=$!; roles+=("$orchestrate")
"$example" --nats "$url" --role aggregate --durable "$work/aggregate" --out "$work/nats.csv" >"$work/aggregate.log" 2>&1 &
aggregate=$!; roles+=("$aggregate")
"$example" --nats "$url" --role parse >"$work/parse.log" 2>&1 &
parse=$!; roles+=("$parse")
"$example" --nats "$url" --role read --lines "$lines" >"$work/read.log" 2>&1
wait "$parse"  # one by one: a failed role stops the script (set -e), where waiting for both told only the last
wait "$aggregate"
ended=$(date +%s.%N)
wait "$orchestrate"
cat "$work/aggregate.log" "$work/orchestrate.log"
echo "three processes: $(echo "$ended - $started" | bc) s for $lines lines"

"$example" --lines "$lines" --out "$work/single.csv" --journal "$work/single" | grep "wall time"
cmp "$work/nats.csv" "$work/single.csv" && echo "the CSV is the single-process run's"

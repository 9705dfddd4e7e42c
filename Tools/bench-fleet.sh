#!/usr/bin/env bash
# Fleet at scale (issue 23): a release coordinator and `quantfleet loadgen` as separate processes on
# loopback (each raises its open-files soft limit to the hard one), stepping the number of simulated
# agents, then a coordinator SIGKILL + restart at the storm size, then a 25 MB model pushed to
# --fan-out agents. Prints one table row per step (Tools/bench/fleet_table.py), the storm's numbers
# and the fan-out's.
#
#   Tools/bench-fleet.sh [--steps "1000 5000 10000 19000"] [--storm 10000] [--fan-out 1000]
#                        [--steady SECONDS] [--window-interval SECONDS] [--work DIR] [--no-build]
#
# Each agent sends a window of 100 labelled samples every --window-interval seconds (default 10:
# 10,000 agents make 1,000 windows/s) at a true drop of 0.5 %, for the ramp plus --steady seconds.
# The fan-out: every agent downloads the rollout's models (a 25.4 MB FP32 MLP made by
# Tools/bench/make_fanout_model.py and its 6.7 MB int8-dynamic copy) through the coordinator's
# transfer slots (max-concurrent-transfers, default 4); --fan-out 0 skips it. --steps "" or
# --storm 0 skip those. Everything runs under `nice -n 15` (the machine is shared). Ports
# 27443-27445 on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STEPS="1000 5000 10000 19000"
STORM=10000
FANOUT=1000
STEADY=60
INTERVAL=10
WORK=/tmp/quantfleet-bench-fleet
BUILD=1
while [[ $# -gt 0 ]]; do
    case $1 in
        --steps) STEPS=$2; shift 2 ;;
        --storm) STORM=$2; shift 2 ;;
        --fan-out) FANOUT=$2; shift 2 ;;
        --steady) STEADY=$2; shift 2 ;;
        --window-interval) INTERVAL=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        *) echo "bench-fleet: unknown option '$1'" >&2; exit 64 ;;
    esac
done
BIN=$ROOT/.build-release/release
PORT=27443 ADMIN=27444 METRICS=27445
RAMP=500   # agents started per second: the coordinator's default handshakes-per-second

if [[ $BUILD == 1 ]]; then
    nice -n 15 swift build -c release --scratch-path .build-release >/dev/null
fi
mkdir -p "$WORK"
[[ -f $WORK/pki/ca.key ]] || bash Deploy/pki/make-pki.sh "$WORK/pki" --operator bench >/dev/null
[[ -f $WORK/mlp-int8.onnx ]] || "$BIN/quantfleet" quantize Fixtures/fashion-mnist/mlp-fp32.onnx -o "$WORK/mlp-int8.onnx" --scheme int8-dynamic >/dev/null
# The shipped policy with an evaluation cadence: thousands of agents would otherwise write a decision row per window.
sed -e 's/^# evaluation:/evaluation:/' -e 's/^#   every-windows: 100/  every-windows: 100/' -e 's/^#   every-ms: 1000/  every-ms: 1000/' \
    Config/policy.yaml > "$WORK/policy.yaml"

COORDINATOR_PID=""
SAMPLER_PID=""
cleanup() {
    [[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null || true
    [[ -n $COORDINATOR_PID ]] && kill "$COORDINATOR_PID" 2>/dev/null || true
}
trap cleanup EXIT

# start_coordinator DIR [REFERENCE CANDIDATE]: a fresh ledger under DIR, rolling out CANDIDATE
# (int8) against REFERENCE (FP16 or FP32; the Fashion-MNIST MLP by default); sets COORDINATOR_PID
# once it listens.
start_coordinator() {
    local dir=$1 reference=${2:-$ROOT/Fixtures/fashion-mnist/mlp-fp16.onnx} candidate=${3:-$WORK/mlp-int8.onnx}
    local precision=fp16
    [[ $reference == *fp32* ]] && precision=fp32
    mkdir -p "$dir"
    cat > "$dir/coordinator.yaml" <<YAML
listen: {host: 127.0.0.1, port: $PORT}
tls: {certificate: $WORK/pki/coordinator.pem, private-key: $WORK/pki/coordinator.key, trust-roots: $WORK/pki/ca.pem}
ledger: $dir/ledger.sqlite
model-store: $dir/models
policy: $WORK/policy.yaml
heartbeat-interval-ms: 10000
max-frame-bytes: 4194304
max-agents: 19000
admin: {host: 127.0.0.1, port: $ADMIN}
metrics: {host: 127.0.0.1, port: $METRICS}
rollout:
  model-name: fashion-mnist-mlp
  reference: $reference
  reference-precision: $precision
  candidate: $candidate
  candidate-precision: int8
  sampling-rate: 1.0
  window-size: 100
  window-max-age-ms: 1000
YAML
    local before
    before=$(grep -c "listening for agents" "$dir/coordinator.log" 2>/dev/null || true)
    nice -n 15 "$BIN/quantfleet-coordinator" --config "$dir/coordinator.yaml" >> "$dir/coordinator.log" 2>&1 &
    COORDINATOR_PID=$!
    for _ in $(seq 100); do
        [[ $(grep -c "listening for agents" "$dir/coordinator.log" 2>/dev/null || true) -gt ${before:-0} ]] && return 0
        sleep 0.1
    done
    echo "bench-fleet: the coordinator did not start; see $dir/coordinator.log" >&2
    exit 1
}

# sample PID FILE: unix ms, utime + stime (clock ticks) and RSS (KiB) of PID every 0.5 s.
sample() {
    while kill -0 "$1" 2>/dev/null; do
        local stat rss
        stat=$(cut -d' ' -f14,15 "/proc/$1/stat" 2>/dev/null) || break
        rss=$(awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null) || break
        echo "$(date +%s%3N) ${stat% *} ${stat#* } $rss"
        sleep 0.5
    done > "$2"
}

# start_sampling DIR: the running coordinator's idle RSS after 2 s, then `sample` in the background.
start_sampling() {
    sleep 2
    awk '/VmRSS/ {print $2}' "/proc/$COORDINATOR_PID/status" > "$1/idle-rss-kib.txt"
    sample "$COORDINATOR_PID" "$1/samples.txt" &
    SAMPLER_PID=$!
}

# stop_coordinator: SIGTERM to the coordinator and its sampler, if one runs, and waits for both.
stop_coordinator() {
    kill "$COORDINATOR_PID"; wait "$COORDINATOR_PID" 2>/dev/null || true
    if [[ -n $SAMPLER_PID ]]; then kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; fi
    COORDINATOR_PID="" SAMPLER_PID=""
}

# status_latency DIR: times `rollout status` through the admin API, five times, in ms.
status_latency() {
    local id
    id=$(sqlite3 "$1/ledger.sqlite" "SELECT id FROM rollouts LIMIT 1")
    for _ in 1 2 3 4 5; do
        local start end
        start=$(date +%s%N)
        "$BIN/quantfleet" rollout status "$id" --coordinator "https://localhost:$ADMIN" --cert "$WORK/pki/operators/operator.pem" \
            --key "$WORK/pki/operators/operator.key" --ca "$WORK/pki/ca.pem" >/dev/null
        end=$(date +%s%N)
        echo $(( (end - start) / 1000000 ))
    done > "$1/status-ms.txt"
}

loadgen() { # loadgen DIR AGENTS DURATION [OPTION...]
    nice -n 15 "$BIN/quantfleet" loadgen --port "$PORT" --ca "$WORK/pki/ca.pem" --ca-key "$WORK/pki/ca.key" \
        --cert-cache "$WORK/pki/loadgen-agents" --agents "$2" --ramp-per-second "$RAMP" --window-interval "$INTERVAL" \
        --duration "$3" --drain-timeout 60 --policy "$WORK/policy.yaml" --ledger "$1/ledger.sqlite" "${@:4}" > "$1/loadgen.txt" 2>&1 || true
}

for agents in $STEPS; do
    dir=$WORK/step-$agents
    rm -rf "$dir"
    start_coordinator "$dir"
    start_sampling "$dir"
    duration=$(( agents / RAMP + 10 + STEADY ))
    loadgen "$dir" "$agents" "$duration" &
    loadgen_pid=$!
    # rollout status while the whole fleet is connected and sending
    sleep $(( agents / RAMP + 10 + STEADY / 2 ))
    status_latency "$dir"
    wait "$loadgen_pid"
    stop_coordinator
    sqlite3 "$dir/ledger.sqlite" "SELECT count(*), count(DISTINCT agent_id || ' ' || assignment_id || ' ' || sequence) FROM windows" > "$dir/windows.txt"
    echo "step $agents done: $(grep -c . "$dir/loadgen.txt") lines in $dir/loadgen.txt" >&2
done

# The storm: SIGKILL the coordinator with the whole fleet connected and sending, then restart it at once.
if [[ $STORM -gt 0 ]]; then
    dir=$WORK/storm-$STORM
    rm -rf "$dir"
    start_coordinator "$dir"
    # Windows go on long enough for a slow ramp (up to 180 s), 10 s with the whole fleet in, and the
    # reconnection after the kill.
    duration=$(( STORM / RAMP + 250 ))
    loadgen "$dir" "$STORM" "$duration" &
    loadgen_pid=$!
    # The kill comes 10 s after the coordinator's own gauge counts the whole fleet, or after 180 s.
    for _ in $(seq 360); do
        connected=$(curl -s "http://127.0.0.1:$METRICS/metrics" | awk '/^quantfleet_coordinator_agents_connected / {print int($2)}')
        [[ ${connected:-0} -ge $STORM ]] && break
        sleep 0.5
    done
    sleep 10
    kill -KILL "$COORDINATOR_PID"; wait "$COORDINATOR_PID" 2>/dev/null || true
    date +%s%3N > "$dir/killed-unix-ms.txt"
    start_coordinator "$dir"
    wait "$loadgen_pid"
    stop_coordinator
    sqlite3 "$dir/ledger.sqlite" "SELECT count(*), count(DISTINCT agent_id || ' ' || assignment_id || ' ' || sequence) FROM windows" > "$dir/windows.txt"
fi

# The fan-out: a fresh coordinator whose rollout needs 32 MB of models on every agent.
if [[ $FANOUT -gt 0 ]]; then
    dir=$WORK/fanout-$FANOUT
    rm -rf "$dir"
    [[ -f $WORK/fanout-fp32.onnx ]] || python3 Tools/bench/make_fanout_model.py "$WORK/fanout-fp32.onnx"
    [[ -f $WORK/fanout-int8.onnx ]] || "$BIN/quantfleet" quantize "$WORK/fanout-fp32.onnx" -o "$WORK/fanout-int8.onnx" --scheme int8-dynamic >/dev/null
    start_coordinator "$dir" "$WORK/fanout-fp32.onnx" "$WORK/fanout-int8.onnx"
    start_sampling "$dir"
    loadgen "$dir" "$FANOUT" $(( FANOUT / 15 + 30 )) --download
    stop_coordinator
fi

python3 Tools/bench/fleet_table.py "$WORK" $STEPS --storm "$STORM" --fan-out "$FANOUT"

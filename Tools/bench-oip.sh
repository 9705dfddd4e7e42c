#!/usr/bin/env bash
# Open Inference Protocol transports: one coordinator and one agent on loopback serving the Fashion-MNIST
# MLP (or MiniLM), driven by one tritonclient client with REST JSON, REST binary tensor data and gRPC
# (Tools/bench/oip_load.py). Prints a markdown table: requests/s, p50 and p99 latency as the client sees
# them (encoding and decoding included), and the agent's CPU time per request; first, the agent's
# resident memory before any model and with both loaded, and its CPU while idle.
#
#   Tools/bench-oip.sh [--requests N] [--batches "1 64"] [--sampling-rate R] [--work DIR] [--debug] [--no-build]
#                      [--pair mlp|minilm]
#
# --pair minilm rolls out all-MiniLM-L6-v2 (FP32 reference from Tools/make-model-fixtures.py, its
# int8-dynamic copy) instead of the MLP, driven with sequences of 128 tokens.
#
# Release builds in .build-release unless --debug (the debug build's HTTP stack is unoptimised, its
# engine is not). The shadow samples --sampling-rate of the requests (default 0.01), so that the
# numbers are the transport's and the primary model's. Everything runs under `nice -n 15` (the
# machine is shared). Ports 27463-27465 on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REQUESTS=2000
BATCHES="1 64"
SAMPLING=0.01
PAIR=mlp
WORK=/tmp/quantfleet-bench-oip
CONFIGURATION=release
BUILD=1
while [[ $# -gt 0 ]]; do
    case $1 in
        --requests) REQUESTS=$2; shift 2 ;;
        --batches) BATCHES=$2; shift 2 ;;
        --sampling-rate) SAMPLING=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --debug) CONFIGURATION=debug; shift ;;
        --pair) PAIR=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        *) echo "bench-oip: unknown option '$1'" >&2; exit 64 ;;
    esac
done
if [[ $CONFIGURATION == release ]]; then SCRATCH=.build-release; else SCRATCH=.build; fi
BIN=$ROOT/$SCRATCH/$CONFIGURATION
PORT=27463 INFERENCE=27464 GRPC=27465

if [[ $BUILD == 1 ]]; then
    nice -n 15 swift build -c "$CONFIGURATION" --scratch-path "$SCRATCH" >/dev/null
fi
rm -rf "$WORK/coordinator" "$WORK/agent"
mkdir -p "$WORK/coordinator" "$WORK/agent"
bash Deploy/pki/make-pki.sh "$WORK/pki" bench-agent >/dev/null
case $PAIR in
    mlp)
        MODEL=fashion-mnist-mlp REFERENCE=$ROOT/Fixtures/fashion-mnist/mlp-fp16.onnx PRECISION=fp16 SOURCE=Fixtures/fashion-mnist/mlp-fp32.onnx ;;
    minilm)
        MODEL=all-minilm-l6-v2 REFERENCE=$ROOT/.cache/models/minilm-fp32.onnx PRECISION=fp32 SOURCE=$REFERENCE
        [[ -f $REFERENCE ]] || { echo "bench-oip: $REFERENCE is missing; python3 Tools/make-model-fixtures.py makes it" >&2; exit 1; } ;;
    *) echo "bench-oip: --pair is mlp or minilm, not '$PAIR'" >&2; exit 64 ;;
esac
CANDIDATE=$WORK/$PAIR-int8.onnx
[[ -f $CANDIDATE ]] || "$BIN/quantfleet" quantize "$SOURCE" -o "$CANDIDATE" --scheme int8-dynamic >/dev/null

cat > "$WORK/coordinator.yaml" <<YAML
listen: {host: 127.0.0.1, port: $PORT}
tls: {certificate: $WORK/pki/coordinator.pem, private-key: $WORK/pki/coordinator.key, trust-roots: $WORK/pki/ca.pem, crl: $WORK/pki/crl.pem}
ledger: $WORK/coordinator/ledger.sqlite
model-store: $WORK/coordinator/models
policy: $ROOT/Config/policy.yaml
heartbeat-interval-ms: 2000
max-frame-bytes: 4194304
signing-key: $WORK/pki/signing.key
rollout:
  model-name: $MODEL
  reference: $REFERENCE
  reference-precision: $PRECISION
  candidate: $CANDIDATE
  candidate-precision: int8
  sampling-rate: $SAMPLING
  window-size: 100
  window-max-age-ms: 1000
YAML
cat > "$WORK/agent.yaml" <<YAML
coordinator: {host: 127.0.0.1, port: $PORT}
coordinator-name: localhost
coordinator-signing-key: $WORK/pki/signing.pub.pem
tls: {certificate: $WORK/pki/agents/bench-agent.pem, private-key: $WORK/pki/agents/bench-agent.key, trust-roots: $WORK/pki/ca.pem, crl: $WORK/pki/crl.pem}
data-dir: $WORK/agent/data
inference: {host: 127.0.0.1, port: $INFERENCE, grpc-port: $GRPC}
shadow-queue-capacity: 1024
max-frame-bytes: 4194304
reconnect: {initial-ms: 200, maximum-ms: 5000}
labels: {}
YAML

rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
cpu_ticks() { cut -d' ' -f14,15 "/proc/$1/stat" | awk '{print $1 + $2}'; }

PIDS=()
trap 'for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done' EXIT
# The agent first, alone: its memory before it has any model.
nice -n 15 "$BIN/quantfleet-agent" --config "$WORK/agent.yaml" > "$WORK/agent.log" 2>&1 &
AGENT=$!
PIDS+=("$AGENT")
sleep 3
IDLE_RSS=$(rss_mib "$AGENT")
nice -n 15 "$BIN/quantfleet-coordinator" --config "$WORK/coordinator.yaml" > "$WORK/coordinator.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$INFERENCE/v2/health/ready" >/dev/null && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$INFERENCE/v2/health/ready" >/dev/null \
    || { echo "bench-oip: the agent is not ready after 30 s; see $WORK/agent.log and $WORK/coordinator.log" >&2; exit 1; }

# Both models loaded, no traffic: memory, and CPU over 10 s.
sleep 2
LOADED_RSS=$(rss_mib "$AGENT")
before=$(cpu_ticks "$AGENT")
sleep 10
IDLE_CPU=$(awk -v ticks=$(( $(cpu_ticks "$AGENT") - before )) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", ticks / hz / 10 * 100}')
echo "agent RSS: ${IDLE_RSS} MiB before any model, ${LOADED_RSS} MiB with the $MODEL pair loaded; idle CPU ${IDLE_CPU} % over 10 s"

# shellcheck disable=SC2086
python3 Tools/bench/oip_load.py "127.0.0.1:$INFERENCE" "$MODEL" "$AGENT" --grpc "127.0.0.1:$GRPC" \
    --traffic Fixtures/fashion-mnist/traffic.npz --requests "$REQUESTS" --batches $BATCHES

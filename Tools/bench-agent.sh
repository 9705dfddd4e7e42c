#!/usr/bin/env bash
# The agent's own weight (issue 23 item 5): the stripped release binary, its memory and idle CPU
# (from Tools/bench-oip.sh), and what shadowing adds to the primary request's latency: one
# tritonclient client, batch 1, binary tensor data, at shadow sampling rates 0.1, 0.5 and 1.0 against
# 0.001 (the ledger refuses a rollout that samples nothing; 0.001 shadows about 3 of 3,000 requests).
#
#   Tools/bench-agent.sh [--requests N] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=3000
BUILD=1
while [[ $# -gt 0 ]]; do
    case $1 in
        --requests) REQUESTS=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        *) echo "bench-agent: unknown option '$1'" >&2; exit 64 ;;
    esac
done
if [[ $BUILD == 1 ]]; then
    nice -n 15 swift build -c release --scratch-path .build-release >/dev/null
fi
stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT
strip --strip-all -o "$stripped" .build-release/release/quantfleet-agent
echo "quantfleet-agent: $(( $(stat -c %s .build-release/release/quantfleet-agent) / 1048576 )) MiB built, $(( $(stat -c %s "$stripped") / 1048576 )) MiB stripped"

echo "| shadow sampling | requests/s | p50 ms | p99 ms | p99 against 0.001 |"
echo "|---:|---:|---:|---:|---:|"
baseline=""
for rate in 0.001 0.1 0.5 1.0; do
    output=$(Tools/bench-oip.sh --no-build --sampling-rate "$rate" --batches 1 --requests "$REQUESTS")
    [[ $rate == 0.001 ]] && echo "$output" | grep "^agent RSS" >&2
    # | 1 | binary | requests/s | p50 | p99 | cpu |
    row=$(echo "$output" | grep "^| 1 | binary |")
    read -r rps p50 p99 < <(echo "$row" | awk -F'|' '{gsub(/[ ,]/, "", $4); gsub(/ /, "", $5); gsub(/ /, "", $6); print $4, $5, $6}')
    [[ -z $baseline ]] && baseline=$p99
    echo "| $rate | $rps | $p50 | $p99 | $(awk -v a="$p99" -v b="$baseline" 'BEGIN {printf "%+.1f %%", (a / b - 1) * 100}') |"
done

#!/usr/bin/env bash
# Fleet-in-a-box: builds QuantFleet and runs the demo (coordinator + three agents on loopback,
# the Fashion-MNIST model quantized to INT8, real traffic, a ledger decision).
# Usage: Deploy/fleet-in-a-box.sh [DIR]   (default DIR: ./quantfleet-demo; PKI, logs and ledger stay there)
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/install-dependencies.sh
swift build
exec .build/debug/quantfleet demo --dir "${1:-quantfleet-demo}"

#!/usr/bin/env bash
# The test command: installs what the tests need, builds everything, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/install-dependencies.sh --test-oracles
swift build
swift test

#!/usr/bin/env bash
# The test command: installs what the tests need, builds everything, runs every test, then runs every
# command and SQL query the README and docs/ show (Tools/check-docs.py), then installs the Debian
# packages of that build, runs them as their units would, upgrades and purges them
# (Tools/test-packages.sh), then every libFuzzer target for 20 s from its corpus, which replays every
# input that once crashed it (Tools/fuzz.sh all), then the daemons' in-process tests under the thread
# sanitizer (Tools/tsan.sh). The two sanitized builds have scratch paths of their own and cost about
# 6 (the seven fuzz targets) and 9 minutes here (docs/development.md).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/install-dependencies.sh --test-oracles
swift build
swift test
python3 Tools/check-docs.py --bin-dir .build/debug
Tools/test-packages.sh
Tools/fuzz.sh all 20
Tools/tsan.sh

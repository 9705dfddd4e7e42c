#!/usr/bin/env bash
# Runs the daemons' in-process tests under the thread sanitizer, in a build of their own
# (.build-tsan): InProcessFleetTests (a coordinator and two agents in one process, over real TLS)
# and the unit tests of the daemons and what they share. Every other system test starts the
# daemons as processes, which this build does not instrument. Exits non-zero on any report: there
# are no suppressions (every lock is a pthread mutex the sanitizer sees; Package.swift says why).
set -euo pipefail
cd "$(dirname "$0")/.."
filter='InProcessFleetTests|AgentTests\.|CoordinatorTests\.|DaemonSupportTests\.|FaultInjectionTests\.|LedgerTests\.'
swift build --build-tests --sanitize=thread --scratch-path .build-tsan
log=$(mktemp)
# DecisionCostTests is a timing measurement of 10^5 windows and checks no concurrency: under the
# sanitizer it would take minutes of the run for nothing.
swift test --sanitize=thread --scratch-path .build-tsan --skip-build --filter "$filter" --skip DecisionCostTests 2>&1 | tee "$log" | grep -E "Executed [0-9]+ tests|error:|WARNING: ThreadSanitizer" || true
reports=$(grep -c "WARNING: ThreadSanitizer" "$log" || true)
# XCTest's failure lines ("File.swift:12: error: SomeTests.testName : ..." or "<EXPR>:0: error: ..."),
# not a daemon's log line that quotes a connection error.
failed=$(grep -cE ":[0-9]+: error: [A-Za-z0-9_]+\.test|with [1-9][0-9]* failures" "$log" || true)
# A report is printed whole: the summary line alone does not say which accesses raced.
sed -n '/^WARNING: ThreadSanitizer/,/^SUMMARY: ThreadSanitizer/p' "$log"
echo "thread sanitizer: $reports reports, $failed failing lines"
rm -f "$log"
[ "$reports" -eq 0 ] && [ "$failed" -eq 0 ]

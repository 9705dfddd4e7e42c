"""The check the tritonclient oracles share: one line per check passed, exit 1 at the first that fails."""
import sys


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}")
        sys.exit(1)
    print(f"ok: {what}")

"""What the tritonclient oracles share: one line per check passed, exit 1 at the first that fails; and
the refusal a call met."""
import sys

from tritonclient.utils import InferenceServerException


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def refusal(call):
    """The status and message of the refusal `call` met, or (None, "accepted")."""
    try:
        call()
    except InferenceServerException as error:
        return error.status(), error.message()
    return None, "accepted"

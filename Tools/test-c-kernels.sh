#!/usr/bin/env bash
# Builds the C kernels' own tests (Tests/CKernels) straight from Sources/CQuantKernels and runs them
# on every kernel path this machine can reach:
#   native   the host compiler (CC, default cc) with AddressSanitizer and UBSan, run here: scalar
#            plus the host's SIMD paths
#   aarch64  aarch64-linux-gnu-gcc, static, with UBSan, run under qemu-aarch64 on two CPUs:
#            cortex-a53 (plain NEON, no dot product) and max (dot product), so both arm64 paths run
#   all      both (the default)
# Needs gcc-aarch64-linux-gnu and qemu-user for aarch64 (Tools/install-dependencies.sh --test-oracles).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-all}"
case "$mode" in native | aarch64 | all) ;; *) echo "usage: $0 [native|aarch64|all]" >&2; exit 2 ;; esac

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
sources=(Sources/CQuantKernels/*.c Tests/CKernels/kernel_tests.c)
flags=(-std=gnu11 -O2 -Wall -Wextra -Werror -fno-sanitize-recover=all -I Sources/CQuantKernels/include -I Sources/CQuantKernels)

run_native() {
    "${CC:-cc}" "${flags[@]}" -fsanitize=address,undefined "${sources[@]}" -o "$build/kernel_tests" -lm -lpthread
    echo "== native ($(uname -m))"
    "$build/kernel_tests"
}

run_aarch64() {
    for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
        command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install gcc-aarch64-linux-gnu qemu-user" >&2; exit 3; }
    done
    aarch64-linux-gnu-gcc "${flags[@]}" -fsanitize=undefined -static "${sources[@]}" -o "$build/kernel_tests-aarch64" -lm -lpthread
    for cpu in cortex-a53 max; do
        echo "== aarch64 (qemu-aarch64 -cpu $cpu)"
        qemu-aarch64 -cpu "$cpu" "$build/kernel_tests-aarch64"
    done
}

case "$mode" in
native) run_native ;;
aarch64) run_aarch64 ;;
all) run_native && run_aarch64 ;;
esac

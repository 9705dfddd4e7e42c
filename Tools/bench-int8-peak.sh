#!/usr/bin/env bash
# Measures this CPU's int8 multiply-accumulate peak and how much of it qf_gemm_u8s8 reaches at
# M = N = K = 1024 on each kernel path, single-threaded (Tools/bench/int8_peak.c). Built with plain
# -O2: the kernels carry their own per-function target attributes, as in the Swift build.
# CC picks the compiler (default clang, as SwiftPM builds the C target: GCC copies the VNNI accumulators).
set -euo pipefail
cd "$(dirname "$0")/.."
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
"${CC:-clang}" -std=gnu11 -O2 -Wall -Wextra -Werror -I Sources/CQuantKernels/include -I Sources/CQuantKernels \
    Sources/CQuantKernels/*.c Tools/bench/int8_peak.c -o "$build/int8_peak" -lm -lpthread
"$build/int8_peak"

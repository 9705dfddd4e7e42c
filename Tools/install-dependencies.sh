#!/usr/bin/env bash
# Installs what building and testing QuantFleet needs on a fresh Debian machine with Swift:
#   apt: libsqlite3-dev (GRDB links the system SQLite), openssl (Deploy/pki), sqlite3 (the shell),
#     postgresql (the PostgreSQL ledger's tests and demo start a server of their own in a temporary directory),
#     pkg-config and libleptonica-dev (the engine's ImageDecoder links Leptonica, which pulls in libjpeg-turbo, libpng, libtiff,
#     libwebp and OpenJPEG); libcurl4-openssl-dev, which a release build of the CLI with --static-swift-stdlib links
#     (static FoundationNetworking; Tools/package.sh)
#   pip (only with --test-oracles): numpy, onnx, onnxruntime, the test oracles; never used at run time (onnx-ir: the
#     MatMulNBitsQuantizer of onnxruntime that Tools/make-microsoft-op-fixtures.py runs imports it);
#     tokenizers and pillow, which Tools/make-model-fixtures.py needs to tokenize text and decode images;
#     scikit-learn, skl2onnx, onnxmltools, lightgbm and xgboost-cpu, whose models Tools/make-classic-ml-fixtures.py
#     trains and converts; tritonclient[http,grpc], the OIP client with which InferenceServerTests and Tools/bench-oip.sh
#     drive the agent over REST and gRPC
#   apt (only with --test-oracles): chromium, which renders `quantfleet rollout report` pages in RolloutReportTests
#     opencv-doc, whose scanned pages, scene-text photos and tutorials are Tools/make-model-fixtures.py's inputs
#     dataset-fashion-mnist, the images Tools/make-fixtures.py and Tools/quantization-benchmark.py read
#     gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user, which build and run the C kernels' own tests for
#     arm64 (Tools/test-c-kernels.sh aarch64, run by CrossArchitectureKernelTests)
#     curl, which the docs' commands use and Tools/check-docs.py runs
#     prometheus, for promtool, which checks Deploy/prometheus/alerts.yaml in DeployMonitoringTests
#     binutils (strip), systemd (systemd-analyze), passwd (useradd) and
#     util-linux (runuser), with which Tools/test-packages.sh makes, verifies and runs the Debian packages
set -euo pipefail

APT_PACKAGES=(libsqlite3-dev openssl sqlite3 postgresql pkg-config libleptonica-dev libcurl4-openssl-dev)
ORACLE_APT_PACKAGES=(chromium opencv-doc dataset-fashion-mnist gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user curl prometheus binutils systemd passwd util-linux)
PIP_PACKAGES=(numpy "onnx==1.22.0" onnxruntime onnx-ir tokenizers pillow scikit-learn skl2onnx onnxmltools lightgbm xgboost-cpu "tritonclient[http,grpc]")

if [ "${1:-}" = "--test-oracles" ]; then APT_PACKAGES+=("${ORACLE_APT_PACKAGES[@]}"); fi

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing apt packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--test-oracles" ]; then
    python3 - <<'PY' 2>/dev/null || { echo "installing pip packages: ${PIP_PACKAGES[*]}"; python3 -m pip install -q "${PIP_PACKAGES[@]}"; }
import numpy, onnx, onnx_ir, onnxruntime, tokenizers, PIL, sklearn, skl2onnx, onnxmltools, lightgbm, xgboost, tritonclient.http, tritonclient.grpc
assert onnx.__version__ == "1.22.0"
PY
fi

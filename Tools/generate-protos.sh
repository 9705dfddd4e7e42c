#!/usr/bin/env bash
# Regenerates the committed Swift code for our wire protocol and for ONNX.
#   needs: apt-get install protobuf-compiler; pip install onnx==1.22.0 (ships onnx/onnx.proto)
# protoc-gen-swift is built once, in release, from the swift-protobuf checkout that SwiftPM resolved
# (never through swift-protobuf's build plugin, which compiles protoc from C++).
set -euo pipefail
cd "$(dirname "$0")/.."

PLUGIN_BUILD=.build-protoc-gen-swift
swift package resolve >/dev/null
swift build -c release --product protoc-gen-swift \
    --package-path .build/checkouts/swift-protobuf --scratch-path "$PLUGIN_BUILD" >/dev/null
PLUGIN="$PLUGIN_BUILD/release/protoc-gen-swift"

# Wire protocol: quantfleet.v1 -> FleetProtocol (public, since Coordinator and Agent use it).
protoc --plugin=protoc-gen-swift="$PLUGIN" \
    --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
    --proto_path=Protocols \
    --swift_out=Sources/FleetProtocol/Generated \
    Protocols/quantfleet/v1/*.proto

# ONNX: the schema shipped inside the onnx wheel -> Inference (public, since Quantization edits graphs),
# and onnx-data.proto (SequenceProto, OptionalProto: the node tests' sequence data), which imports
# onnx-ml.proto; it is pointed at onnx.proto instead, since one module holds one of the two.
ONNX_DIR="$(python3 -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cp "$ONNX_DIR/onnx.proto" "$TMP/onnx.proto"
sed 's#import "onnx/onnx-ml.proto";#import "onnx.proto";#' "$ONNX_DIR/onnx-data.proto" > "$TMP/onnx-data.proto"
protoc --plugin=protoc-gen-swift="$PLUGIN" \
    --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
    --proto_path="$TMP" \
    --swift_out=Sources/Inference/ONNX/Generated \
    "$TMP/onnx.proto" "$TMP/onnx-data.proto"
echo "generated: Sources/FleetProtocol/Generated, Sources/Inference/ONNX/Generated"

#!/usr/bin/env bash
# Regenerates the committed Swift code for our wire protocol, the Open Inference Protocol's gRPC
# service, and ONNX.
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
GRPC_PLUGIN_BUILD=.build-protoc-gen-grpc-swift
swift build -c release --product protoc-gen-grpc-swift-2 \
    --package-path .build/checkouts/grpc-swift-protobuf --scratch-path "$GRPC_PLUGIN_BUILD" >/dev/null
GRPC_PLUGIN="$GRPC_PLUGIN_BUILD/release/protoc-gen-grpc-swift-2"

# Wire protocol: quantfleet.v1 -> FleetProtocol (public, since Coordinator and Agent use it).
protoc --plugin=protoc-gen-swift="$PLUGIN" \
    --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
    --proto_path=Protocols \
    --swift_out=Sources/FleetProtocol/Generated \
    Protocols/quantfleet/v1/*.proto

# The agent's gRPC services -> OpenInferenceGRPC: the Open Inference Protocol (KServe v2), vendored, and
# our late-label service beside it; messages and the server and client stubs (public, since Agent
# serves them and tests call them).
protoc --plugin=protoc-gen-swift="$PLUGIN" --plugin=protoc-gen-grpc-swift="$GRPC_PLUGIN" \
    --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
    --grpc-swift_opt=Visibility=Public --grpc-swift_opt=FileNaming=PathToUnderscores \
    --proto_path=Protocols \
    --swift_out=Sources/OpenInferenceGRPC/Generated --grpc-swift_out=Sources/OpenInferenceGRPC/Generated \
    Protocols/kserve/v2/grpc_predict_v2.proto Protocols/quantfleet/agent/v1/labels.proto

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
echo "generated: Sources/FleetProtocol/Generated, Sources/OpenInferenceGRPC/Generated, Sources/Inference/ONNX/Generated"

// swift-tools-version: 6.2
import PackageDescription

// Every lock is NIOConcurrencyHelpers' NIOLockedValueBox, a pthread mutex the thread sanitizer
// sees. Synchronization.Mutex waits on a futex in an uninstrumented library, so the sanitizer
// reports two threads' turns in one contended Mutex as a race (Tools/tsan.sh).
let locks = Target.Dependency.product(name: "NIOConcurrencyHelpers", package: "swift-nio")

let package = Package(
    name: "QuantFleet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "quantfleet", targets: ["quantfleet"]),
        .executable(name: "quantfleet-coordinator", targets: ["quantfleet-coordinator"]),
        .executable(name: "quantfleet-agent", targets: ["quantfleet-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
    ],
    targets: [
        // Integer micro-kernels behind one dispatch table chosen at load. Optimised in debug builds
        // too: the tests run real CNNs, which take minutes per image through -O0 intrinsics.
        .target(name: "CQuantKernels", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),
        // Keeps freed memory in the heap (glibc malloc options): linked only by the executables that
        // run inference, which opt in; no library sets its host's malloc options.
        .target(name: "CHeapRetention"),
        // Leptonica reads every format ImageDecoder takes: JPEG, PNG, TIFF, WebP and JPEG 2000 through
        // libjpeg-turbo, libpng, libtiff, libwebp and OpenJPEG; BMP and PNM with its own readers.
        .systemLibrary(name: "CLeptonica", pkgConfig: "lept", providers: [.apt(["libleptonica-dev"])]),
        // Tensors, ONNX import, operators, sessions. Knows nothing about fleets. Optimised in debug
        // builds too, like the kernels: the tests and the system tests' agents run real detectors
        // and CNNs, which take seconds per image unoptimised.
        .target(
            name: "Inference",
            dependencies: [
                locks,
                "CQuantKernels", "CLeptonica",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        // ONNX's backend node tests run through the engine, held against the expected failures.
        .target(name: "NodeConformance", dependencies: ["Inference"]),
        .executableTarget(name: "onnx-node-tests", dependencies: ["NodeConformance"]),
        .target(
            name: "Quantization",
            dependencies: [
                "Inference",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // The one parser of QuantFleet's YAML files: Yams, decoded strictly (unknown and repeated
        // keys refused, every error with its line).
        .target(name: "StrictYAML", dependencies: [.product(name: "Yams", package: "Yams")]),
        // Pure math: comparison metrics, window aggregates, confidence sequences, policy.
        .target(name: "ShadowEval", dependencies: ["StrictYAML"]),
        // Wire messages, framing and TLS. Knows nothing about inference. Peers are verified with
        // swift-certificates (swift-nio-ssl has no CRLs), whose DER reader also parses the CRL.
        .target(
            name: "FleetProtocol",
            dependencies: [
                locks,
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What both daemons share: configuration files, content addresses, backoff, window conversion,
        // manifest signing, the Prometheus endpoint, TLS files read again while running.
        .target(
            name: "DaemonSupport",
            dependencies: [
                locks,
                "FleetProtocol", "ShadowEval", "StrictYAML",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Ledger",
            dependencies: [
                locks,
                "ShadowEval",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Coordinator",
            dependencies: [
                locks,
                "FleetProtocol", "Ledger", "ShadowEval", "DaemonSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
            ]
        ),
        // The agent's gRPC services, generated and committed (Tools/generate-protos.sh): the Open
        // Inference Protocol's (Protocols/kserve/v2) and the late-label service beside it.
        .target(
            name: "OpenInferenceGRPC",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(
            name: "Agent",
            dependencies: [
                locks,
                "FleetProtocol", "Inference", "ShadowEval", "DaemonSupport", "OpenInferenceGRPC",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                // The binary tensor data extension's Inference-Header-Content-Length field (Hummingbird
                // exports HTTPFields, not the field names).
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        // A TCP proxy that injects network faults (latency, jitter, bandwidth caps, stalls, cuts,
        // black holes, half-open connections) between real processes; the chaos campaign's network.
        .target(
            name: "FaultInjection",
            dependencies: [
                locks,
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Operator tooling behind the CLI: replay, ledger reports, the fleet-in-a-box demo.
        .target(
            name: "Operations",
            dependencies: [
                locks,
                "Inference", "Quantization", "Ledger", "ShadowEval", "FleetProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // `quantfleet chaos`: a seeded fault campaign against a real fleet behind fault proxies, and
        // the checker that holds the ledger against what every agent sealed.
        .target(
            name: "Chaos",
            dependencies: [locks, "Operations", "FaultInjection", "Agent", "Ledger", "FleetProtocol", "ShadowEval"]
        ),
        // Simulated agents for `quantfleet loadgen` and the scale tests: many real TLS connections per
        // process, each with its own certificate issued in process from the fleet CA.
        .target(
            name: "LoadGeneration",
            dependencies: [
                locks,
                "FleetProtocol", "ShadowEval", "DaemonSupport", "Ledger",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "quantfleet",
            dependencies: [
                locks,
                "Operations", "Chaos", "LoadGeneration", "Inference", "Quantization", "Ledger", "FleetProtocol", "ShadowEval", "CHeapRetention",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "quantfleet-coordinator",
            dependencies: [
                "Coordinator", "DaemonSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "quantfleet-agent",
            dependencies: [
                "Agent", "DaemonSupport", "CHeapRetention",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer targets, one per parser of outside bytes (Fuzz/README.md). Built as ordinary
        // executables that do nothing; `Tools/fuzz.sh TARGET SECONDS` builds one with the fuzzer.
        .executableTarget(
            name: "fuzz-frames",
            dependencies: ["FleetProtocol", "DaemonSupport", "ShadowEval", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")],
            path: "Fuzz/frames"
        ),
        .executableTarget(name: "fuzz-onnx", dependencies: ["Inference"], path: "Fuzz/onnx"),
        .executableTarget(name: "fuzz-npz", dependencies: ["Inference"], path: "Fuzz/npz"),
        .executableTarget(name: "fuzz-oip", dependencies: ["Agent", "Inference"], path: "Fuzz/oip"),
        .executableTarget(name: "fuzz-configuration", dependencies: ["Agent", "Coordinator", "ShadowEval", "StrictYAML"], path: "Fuzz/configuration"),
        .executableTarget(
            name: "fuzz-certificates",
            dependencies: ["FleetProtocol", .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "X509", package: "swift-certificates")],
            path: "Fuzz/certificates"
        ),
        .executableTarget(
            name: "fuzz-admin",
            dependencies: ["Coordinator", "FleetProtocol", "Ledger", "ShadowEval", .product(name: "Logging", package: "swift-log")],
            path: "Fuzz/admin"
        ),
        // onnxruntime as an oracle, shared by the engine's and the quantizer's tests.
        .target(name: "ONNXRuntimeOracle", dependencies: ["Inference"], path: "Tests/ONNXRuntimeOracle"),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "NodeConformance", "Quantization", "CQuantKernels", "ONNXRuntimeOracle", "ShadowEval"]),
        .testTarget(name: "QuantizationTests", dependencies: [locks, "Quantization", "Inference", "ONNXRuntimeOracle", "ShadowEval"]),
        .testTarget(name: "ShadowEvalTests", dependencies: ["ShadowEval", "StrictYAML"]),
        .testTarget(name: "StrictYAMLTests", dependencies: ["StrictYAML"]),
        .testTarget(
            name: "FleetProtocolTests",
            dependencies: [
                locks,
                "FleetProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The agent's Open Inference Protocol codecs: the binary tensor data parser and encoder.
        .testTarget(
            name: "AgentTests",
            dependencies: ["Agent", "Inference", "DaemonSupport", "FleetProtocol", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "FaultInjectionTests",
            dependencies: [locks, "FaultInjection", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .testTarget(name: "ChaosTests", dependencies: ["Chaos"]),
        .testTarget(name: "LedgerTests", dependencies: [locks, "Ledger", "Operations", "ShadowEval", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "CoordinatorTests",
            dependencies: [
                locks,
                "Coordinator", "DaemonSupport", "FleetProtocol", "Ledger", "ShadowEval",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DaemonSupportTests",
            dependencies: [
                locks,
                "DaemonSupport", "FleetProtocol", "ShadowEval",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SystemTests",
            dependencies: [
                locks,
                "Agent", "Chaos", "Coordinator", "DaemonSupport", "FaultInjection", "FleetProtocol", "Inference", "Ledger", "LoadGeneration",
                "ONNXRuntimeOracle", "OpenInferenceGRPC", "Operations", "Quantization",
                "ShadowEval", "quantfleet", "quantfleet-coordinator", "quantfleet-agent",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
    ]
)

@testable import Agent
import Crypto
import DaemonSupport
import FleetProtocol
import Foundation
import Inference
import Logging
import NIOCore
import Operations
import XCTest

/// A real agent process against a coordinator played by the test over real mutual TLS, so the test
/// can damage model bytes in flight or drop the connection mid-model: the agent must detect the
/// damage, fetch again (resuming by offset after a drop), and never load unverified bytes.
final class ModelTransferTests: XCTestCase {
    /// How the scripted coordinator damages the first transfer of the candidate.
    enum Damage: Sendable {
        /// Flip a byte but send the original chunk hash: caught by the per-chunk check.
        case chunkBytes
        /// Flip a byte and send a matching chunk hash: caught by the whole-model check.
        case modelBytes
        /// Send the first half intact, then close the connection.
        case dropConnection
        /// Damage the model's bytes (chunk hashes matching) in every transfer until the agent has
        /// refused the model once: a store repaired only later.
        case modelBytesUntilRefused

        /// Whether the candidate's `transfer`th transfer (from 1) is damaged.
        func damages(transfer: Int) -> Bool {
            self == .modelBytesUntilRefused ? transfer <= ModelCache.maximumAttempts : transfer == 1
        }
    }

    func testCorruptChunkIsDetectedAndFetchedAgain() async throws {
        try await runTransfer(damaging: .chunkBytes)
    }

    func testCorruptModelIsDetectedAndFetchedAgainFromTheStart() async throws {
        try await runTransfer(damaging: .modelBytes)
    }

    func testDroppedConnectionResumesFromTheOffsetReached() async throws {
        try await runTransfer(damaging: .dropConnection)
    }

    /// A model refused for bytes that never match its address is reported, and asked for again in
    /// the agent's next session, after its backoff: the store may have been repaired.
    func testAModelRefusedForItsBytesIsAskedForAgainInTheNextSession() async throws {
        let candidate = try Data(contentsOf: SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx"))
        let transcript = Transcript()
        let (fleet, layout) = try await startAgent(candidate: candidate, damage: .modelBytesUntilRefused, transcript: transcript)
        addTeardownBlock { await fleet.stop() }
        try await fleet.waitUntilReady(["agent-1"], timeout: .seconds(60))

        let requests = await transcript.candidateRequests.count
        XCTAssertEqual(requests, ModelCache.maximumAttempts + 1, "three damaged transfers, then a clean one in the next session")
        let rejections = await transcript.rejections
        XCTAssertEqual(rejections.count, 1, "\(rejections)")
        XCTAssertTrue(rejections.first?.contains("never hashed to its address") == true, "\(rejections)")
        let readyCount = await transcript.readyCount
        XCTAssertEqual(readyCount, 1)
        let log = try String(contentsOf: layout.log("agent-1"), encoding: .utf8)
        XCTAssertEqual(log.components(separatedBy: "connected to coordinator").count - 1, 2, log)
    }

    /// A verified candidate the engine cannot run is refused with every reason at once, never
    /// loaded, and reported to the coordinator (which records it in the ledger).
    func testUnrunnableCandidateIsRefusedWithEveryReason() async throws {
        var model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx")))
        model.graph.node[0].opType = "Frobnicate"
        model.graph.node[0].domain = "com.example"
        model.graph.node[1].opType = "Transmogrify"
        model.opsetImport.append(.with {
            $0.domain = "com.example"
            $0.version = 1
        })
        let reason = try await refusal(of: model)
        XCTAssertTrue(reason.contains("unsupported operator Frobnicate (domain com.example, opset 1)"), reason)
        XCTAssertTrue(reason.contains("unsupported operator Transmogrify (domain ai.onnx"), reason)
    }

    /// The one reason the agent gives for refusing `candidate`, which never serves.
    private func refusal(of candidate: Onnx_ModelProto) async throws -> String {
        let transcript = Transcript()
        let (fleet, _) = try await startAgent(candidate: try candidate.serializedBytes(), damage: nil, transcript: transcript)
        addTeardownBlock { await fleet.stop() }
        let deadline = ContinuousClock.now + .seconds(60)
        while await transcript.rejections.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let rejections = await transcript.rejections
        XCTAssertEqual(rejections.count, 1, "\(rejections)")
        let readyCount = await transcript.readyCount
        XCTAssertEqual(readyCount, 0, "a refused candidate never serves")
        return try XCTUnwrap(rejections.first)
    }

    /// The engine runs ZipMap, but its sequence of maps is no tensor the Open Inference Protocol can
    /// serve: the agent refuses the assignment with that reason, as skl2onnx's default export needs.
    func testACandidateServingMapsIsRefusedWithThatReason() async throws {
        var model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx")))
        model.graph.node.append(.with {
            $0.opType = "ZipMap"
            $0.domain = "ai.onnx.ml"
            $0.name = "zipmap"
            $0.input = ["probabilities"]
            $0.output = ["probability_map"]
            $0.attribute = [.with {
                $0.name = "classlabels_int64s"
                $0.type = .ints
                $0.ints = Array(0..<10)
            }]
        })
        let served = try XCTUnwrap(model.graph.output.firstIndex { $0.name == "probabilities" })
        model.graph.output[served] = .with {
            $0.name = "probability_map"
            $0.type.sequenceType.elemType.mapType.keyType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
            $0.type.sequenceType.elemType.mapType.valueType.tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        }
        let reason = try await refusal(of: model)
        XCTAssertTrue(reason.contains("'probability_map' is a sequence of maps; the Open Inference Protocol carries tensors only"), reason)
    }

    private func runTransfer(damaging damage: Damage) async throws {
        let candidate = try Data(contentsOf: SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx"))
        let candidateAddress = ContentAddress.sha256(of: candidate)
        let transcript = Transcript()
        let (fleet, layout) = try await startAgent(candidate: candidate, damage: damage, transcript: transcript)
        addTeardownBlock { await fleet.stop() }
        try await fleet.waitUntilReady(["agent-1"], timeout: .seconds(60))

        let requests = await transcript.candidateRequests
        XCTAssertEqual(requests.count, 2, "one damaged transfer, one clean re-fetch: \(requests)")
        let resumeAt = damage == .dropConnection ? UInt64(candidate.count / 2) : 0
        XCTAssertEqual(requests.last, resumeAt, "the re-fetch starts where the damaged or missing bytes began")
        let readyCount = await transcript.readyCount
        XCTAssertEqual(readyCount, 1, "models are loaded once, after verification")
        let cached = layout.agentDirectory("agent-1").appendingPathComponent("data/models/\(candidateAddress).onnx")
        XCTAssertEqual(try Data(contentsOf: cached), candidate, "the cache holds the true bytes")
        let log = try String(contentsOf: layout.log("agent-1"), encoding: .utf8)
        switch damage {
        case .chunkBytes: XCTAssertTrue(log.contains("chunk failed verification"), log)
        case .modelBytes, .modelBytesUntilRefused: XCTAssertTrue(log.contains("does not match its address"), log)
        case .dropConnection: XCTAssertEqual(log.components(separatedBy: "connected to coordinator").count - 1, 2, log)
        }
    }

    /// One agent process against the scripted coordinator, which assigns the FP16 MLP as reference and `candidate`.
    private func startAgent(candidate: Data, damage: Damage?, transcript: Transcript) async throws -> (LocalFleet, FleetLayout) {
        let layout = FleetLayout(root: try SystemTestSupport.scratchDirectory("transfer"))
        try layout.makePKI(script: SystemTestSupport.pkiScript, agents: ["agent-1"])
        let reference = try Data(contentsOf: SystemTestSupport.fixtures.appendingPathComponent("mlp-fp16.onnx"))

        let tls = try FleetTLS.serverContext(TLSFiles(
            certificate: layout.pki.appendingPathComponent("coordinator.pem").path,
            privateKey: layout.pki.appendingPathComponent("coordinator.key").path,
            trustRoots: layout.pki.appendingPathComponent("ca.pem").path))
        let server = try await FleetServer.bind(host: "127.0.0.1", port: 0, tls: tls, logger: Logger(label: "test.coordinator"))
        let coordinator = ScriptedCoordinator(
            reference: reference, candidate: candidate, damage: damage, transcript: transcript,
            signingKey: try ManifestSigning.privateKey(pemFile: layout.pki.appendingPathComponent("signing.key").path))
        let serving = Task { try await server.run(coordinator.serve) }
        addTeardownBlock { serving.cancel() }

        let fleet = LocalFleet(layout: layout, executables: SystemTestSupport.executables)
        fleet.coordinatorPort = try XCTUnwrap(server.localAddress?.port)
        try fleet.startAgent("agent-1")
        return (fleet, layout)
    }
}

/// Plays the coordinator's side of the protocol: Welcome, one Assignment, model chunks (the
/// candidate's first transfer damaged as asked), and notes what the agent asked for.
private struct ScriptedCoordinator: Sendable {
    let reference: Data
    let candidate: Data
    /// nil: every transfer intact.
    let damage: ModelTransferTests.Damage?
    let transcript: Transcript
    /// The fleet's signing key: the agent takes only assignments and models it signed.
    let signingKey: Curve25519.Signing.PrivateKey

    func serve(_ connection: FleetConnection) async throws {
        let models = [ContentAddress.sha256(of: reference): reference, ContentAddress.sha256(of: candidate): candidate]
        try await connection.channel.executeThenClose { inbound, outbound in
            for try await envelope in inbound {
                switch envelope.payload {
                case .hello:
                    try await outbound.write(Envelope(.welcome(.with {
                        $0.protocolVersion = 1
                        $0.agentID = connection.identity
                        $0.heartbeatIntervalMs = 2000
                    })))
                    let assignment = try Assignment.with {
                        $0.assignmentID = "a-test"
                        $0.modelName = "fashion-mnist-mlp"
                        $0.reference = try signed(reference)
                        $0.candidate = try signed(candidate)
                        $0.samplingRate = 1
                        $0.windowSize = 10
                    }
                    try await outbound.write(Envelope(.assignment(try AssignmentSigning.sign(
                        assignment, version: 1, expiresAtMillis: UInt64(Date().timeIntervalSince1970 * 1000) + 3_600_000,
                        explicitRollback: false, with: signingKey))))
                case .modelRequest(let request):
                    guard let model = models[request.sha256] else { continue }
                    let transfer = await transcript.request(request, candidate: request.sha256 == ContentAddress.sha256(of: candidate))
                    let damageThis = transfer.map { damage?.damages(transfer: $0) ?? false } ?? false
                    if damageThis && damage == .dropConnection {
                        try await send(model, request: request, damage: nil, upTo: model.count / 2, to: outbound)
                        return  // closes the connection with half the model sent
                    }
                    try await send(model, request: request, damage: damageThis ? damage : nil, to: outbound)
                case .modelReady:
                    await transcript.ready()
                case .modelRejected(let rejection):
                    await transcript.rejected(rejection.reason)
                default:
                    break
                }
            }
        }
    }

    private func signed(_ model: Data) throws -> ModelRef {
        let sha256 = ContentAddress.sha256(of: model)
        return try ModelRef.with {
            $0.sha256 = sha256
            $0.sizeBytes = UInt64(model.count)
            $0.manifest = try ManifestSigning.sign(ModelManifest.with {
                $0.sha256 = sha256
                $0.sizeBytes = UInt64(model.count)
            }, with: signingKey)
        }
    }

    /// Sends a model in one chunk from the requested offset (to `end`, else the end), damaged if asked.
    private func send(
        _ model: Data, request: ModelRequest, damage: ModelTransferTests.Damage?, upTo end: Int? = nil,
        to outbound: NIOAsyncChannelOutboundWriter<Envelope>
    ) async throws {
        let original = model.subdata(in: Int(request.offset)..<(end ?? model.count))
        var bytes = original
        if damage != nil { bytes[bytes.startIndex + bytes.count / 2] ^= 0xFF }
        try await outbound.write(Envelope(.modelChunk(.with {
            $0.sha256 = request.sha256
            $0.offset = request.offset
            $0.totalSize = UInt64(model.count)
            $0.data = bytes
            $0.chunkSha256 = Data(SHA256.hash(data: damage == .chunkBytes ? original : bytes))
        })))
    }
}

/// What the scripted coordinator saw.
private actor Transcript {
    var candidateRequests: [UInt64] = []
    var readyCount = 0
    var rejections: [String] = []

    /// Records a request; for the candidate's, answers which of its transfers this is (from 1).
    func request(_ request: ModelRequest, candidate: Bool) -> Int? {
        guard candidate else { return nil }
        candidateRequests.append(request.offset)
        return candidateRequests.count
    }

    func ready() { readyCount += 1 }

    func rejected(_ reason: String) { rejections.append(reason) }
}

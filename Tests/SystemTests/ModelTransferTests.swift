import Crypto
import DaemonSupport
import FleetProtocol
import Foundation
import Logging
import NIOCore
import Operations
import XCTest

/// A real agent process against a coordinator played by the test over real mutual TLS, so the test
/// can damage model bytes in flight: the agent must detect them, fetch again, and never load them.
final class ModelTransferTests: XCTestCase {
    /// How the scripted coordinator damages the first transfer of the candidate.
    enum Damage: Sendable {
        /// Flip a byte but send the original chunk hash: caught by the per-chunk check.
        case chunkBytes
        /// Flip a byte and send a matching chunk hash: caught by the whole-model check.
        case modelBytes
    }

    func testCorruptChunkIsDetectedAndFetchedAgain() async throws {
        try await runTransfer(damaging: .chunkBytes)
    }

    func testCorruptModelIsDetectedAndFetchedAgainFromTheStart() async throws {
        try await runTransfer(damaging: .modelBytes)
    }

    private func runTransfer(damaging damage: Damage) async throws {
        let layout = FleetLayout(root: try SystemTestSupport.scratchDirectory("transfer"))
        try layout.makePKI(script: SystemTestSupport.pkiScript, agents: ["agent-1"])
        let reference = try Data(contentsOf: SystemTestSupport.fixtures.appendingPathComponent("mlp-fp16.onnx"))
        let candidate = try Data(contentsOf: SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx"))
        let candidateAddress = ContentAddress.sha256(of: candidate)
        let transcript = Transcript()

        let tls = try FleetTLS.serverContext(TLSFiles(
            certificate: layout.pki.appendingPathComponent("coordinator.pem").path,
            privateKey: layout.pki.appendingPathComponent("coordinator.key").path,
            trustRoots: layout.pki.appendingPathComponent("ca.pem").path))
        let server = try await FleetServer.bind(host: "127.0.0.1", port: 0, tls: tls, logger: Logger(label: "test.coordinator"))
        let coordinator = ScriptedCoordinator(reference: reference, candidate: candidate, damage: damage, transcript: transcript)
        let serving = Task { try await server.run(coordinator.serve) }
        addTeardownBlock { serving.cancel() }

        let fleet = LocalFleet(layout: layout, executables: SystemTestSupport.executables)
        fleet.coordinatorPort = try XCTUnwrap(server.localAddress?.port)
        addTeardownBlock { await fleet.stop() }
        try fleet.startAgent("agent-1")
        try await fleet.waitUntilReady(["agent-1"], timeout: .seconds(60))

        let requests = await transcript.candidateRequests
        XCTAssertEqual(requests.count, 2, "one damaged transfer, one clean re-fetch: \(requests)")
        XCTAssertEqual(requests.last, 0, "the re-fetch starts where the damaged bytes began")
        let readyCount = await transcript.readyCount
        XCTAssertEqual(readyCount, 1, "models are loaded once, after verification")
        let cached = layout.agentDirectory("agent-1").appendingPathComponent("data/models/\(candidateAddress).onnx")
        XCTAssertEqual(try Data(contentsOf: cached), candidate, "the cache holds the true bytes")
        let log = try String(contentsOf: layout.log("agent-1"), encoding: .utf8)
        XCTAssertTrue(log.contains(damage == .chunkBytes ? "chunk failed verification" : "does not match its address"), log)
    }
}

/// Plays the coordinator's side of the protocol: Welcome, one Assignment, model chunks (the
/// candidate's first transfer damaged as asked), and notes what the agent asked for.
private struct ScriptedCoordinator: Sendable {
    let reference: Data
    let candidate: Data
    let damage: ModelTransferTests.Damage
    let transcript: Transcript

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
                    try await outbound.write(Envelope(.assignment(.with {
                        $0.assignmentID = "a-test"
                        $0.modelName = "fashion-mnist-mlp"
                        $0.reference = .with { $0.sha256 = ContentAddress.sha256(of: reference); $0.sizeBytes = UInt64(reference.count) }
                        $0.candidate = .with { $0.sha256 = ContentAddress.sha256(of: candidate); $0.sizeBytes = UInt64(candidate.count) }
                        $0.samplingRate = 1
                        $0.windowSize = 10
                    })))
                case .modelRequest(let request):
                    guard let model = models[request.sha256] else { continue }
                    let damageThis = await transcript.request(request, candidate: request.sha256 == ContentAddress.sha256(of: candidate))
                    try await send(model, request: request, damage: damageThis ? damage : nil, to: outbound)
                case .modelReady:
                    await transcript.ready()
                default:
                    break
                }
            }
        }
    }

    /// Sends a model in one chunk from the requested offset, damaged if asked.
    private func send(
        _ model: Data, request: ModelRequest, damage: ModelTransferTests.Damage?,
        to outbound: NIOAsyncChannelOutboundWriter<Envelope>
    ) async throws {
        let original = model.subdata(in: Int(request.offset)..<model.count)
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

    /// Records a request; true when this is the candidate's first one (the one to damage).
    func request(_ request: ModelRequest, candidate: Bool) -> Bool {
        guard candidate else { return false }
        candidateRequests.append(request.offset)
        return candidateRequests.count == 1
    }

    func ready() { readyCount += 1 }
}

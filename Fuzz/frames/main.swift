import Crypto
import DaemonSupport
import FleetProtocol
import Foundation
import NIOCore
import NIOEmbedded
import ShadowEval

/// Bytes from a peer as both daemons' pipelines meet them once TLS has decrypted them: the frame
/// decoder turns them into envelopes or refuses the stream, and each envelope goes through what its
/// handler reads first (its conversion to the daemon's own types, its signature check), then is
/// encoded again, which must not fail.
private let keys = TrustedSigningKeys([Curve25519.Signing.PrivateKey().publicKey])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let channel = EmbeddedChannel(handlers: [ByteToMessageHandler(EnvelopeDecoder(maxFrameBytes: 1 << 20)),
                                             MessageToByteHandler(EnvelopeEncoder())])
    defer { _ = try? channel.finish() }
    do {
        try channel.writeInbound(ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count)))
        while let envelope = try channel.readInbound(as: Quantfleet_V1_Envelope.self) {
            inspect(envelope)
            try channel.writeOutbound(envelope)
        }
    } catch {
        // Most inputs are refused streams: the decoder names them, and the daemons close the connection.
    }
    return 0
}

private func inspect(_ envelope: Quantfleet_V1_Envelope) {
    switch envelope.payload {
    case .shadowWindow(let window):
        _ = WindowSummary(window)
    case .assignment(let assignment):
        _ = try? AssignmentSigning.verify(assignment, trusting: keys)
        _ = try? AssignmentSigning.checkFreshness(assignment, highestAccepted: 7, nowMillis: 1_800_000_000_000)
        for model in [assignment.reference, assignment.candidate] {
            _ = try? ManifestSigning.verify(model, trusting: keys)
        }
        if assignment.hasTask { _ = try? TaskKind(assignment.task) }
    default:
        break
    }
}

import Crypto
import FleetProtocol
import Foundation
import Logging
import NIOCore

/// Sends one model to one agent as `ModelChunk`s from a requested offset, each with its own
/// SHA-256 so the agent can spot a damaged chunk at once and ask again from that offset.
struct ModelChunkStreamer: Sendable {
    static let chunkBytes = 256 * 1024

    let store: ModelStore
    let logger: Logger

    func stream(_ request: ModelRequest, to outbound: NIOAsyncChannelOutboundWriter<Envelope>) async throws {
        let total = try store.size(of: request.sha256)
        var offset = request.offset
        logger.info("sending model", metadata: ["sha256": "\(request.sha256)", "from": "\(offset)", "size": "\(total)"])
        repeat {
            try Task.checkCancellation()
            let data = try store.read(request.sha256, offset: offset, maxLength: Self.chunkBytes)
            var chunk = ModelChunk()
            chunk.sha256 = request.sha256
            chunk.offset = offset
            chunk.totalSize = UInt64(total)
            chunk.data = data
            chunk.chunkSha256 = Data(SHA256.hash(data: data))
            try await outbound.write(Envelope(.modelChunk(chunk)))
            offset += UInt64(data.count)
        } while offset < UInt64(total)
    }
}

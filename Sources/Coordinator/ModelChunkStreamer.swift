import Crypto
import FleetProtocol
import Foundation
import Logging
import NIOCore

/// Sends one model to one agent as `ModelChunk`s from a requested offset, each with its own
/// SHA-256 so the agent can spot a damaged chunk at once and ask again from that offset. At most
/// `slots` transfers stream at once across all agents.
struct ModelChunkStreamer: Sendable {
    static let chunkBytes = 256 * 1024

    let store: ModelStore
    let slots: TransferSlots
    let metrics: CoordinatorMetrics
    let logger: Logger

    func stream(_ request: ModelRequest, to outbound: NIOAsyncChannelOutboundWriter<Envelope>) async throws {
        try await slots.run {
            try await send(request, from: try store.open(request.sha256, from: request.offset), to: outbound)
        }
    }

    private func send(_ request: ModelRequest, from reader: ModelStore.Reader, to outbound: NIOAsyncChannelOutboundWriter<Envelope>) async throws {
        var offset = request.offset
        logger.info("sending model", metadata: ["sha256": "\(request.sha256)", "from": "\(offset)", "size": "\(reader.size)"])
        repeat {
            try Task.checkCancellation()
            let data = try reader.read(at: offset, maxLength: Self.chunkBytes)
            var chunk = ModelChunk()
            chunk.sha256 = request.sha256
            chunk.offset = offset
            chunk.totalSize = UInt64(reader.size)
            chunk.data = data
            chunk.chunkSha256 = Data(SHA256.hash(data: data))
            try await outbound.write(Envelope(.modelChunk(chunk)))
            metrics.modelBytesPushed.increment(by: Int64(data.count))
            offset += UInt64(data.count)
        } while offset < UInt64(reader.size)
    }
}

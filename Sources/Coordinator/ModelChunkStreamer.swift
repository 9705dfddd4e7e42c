import Crypto
import DaemonSupport
import FleetProtocol
import Foundation
import Ledger
import Logging
import NIOCore

/// Sends one model to one agent as `ModelChunk`s from a requested offset, each with its own
/// SHA-256 so the agent can spot a damaged chunk at once and ask again from that offset. At most
/// `slots` transfers stream at once across all agents. A model registered on another coordinator
/// sharing the ledger is first copied from the ledger into this one's store.
struct ModelChunkStreamer: Sendable {
    static let chunkBytes = 256 * 1024

    let store: ModelStore
    let ledger: Ledger
    let slots: TransferSlots
    let metrics: CoordinatorMetrics
    let logger: Logger

    func stream(_ request: ModelRequest, to outbound: NIOAsyncChannelOutboundWriter<Envelope>) async throws {
        try await slots.run {
            try copyFromLedgerIfMissing(request.sha256)
            try await send(request, from: try store.open(request.sha256, from: request.offset), to: outbound)
        }
    }

    private func copyFromLedgerIfMissing(_ sha256: String) throws {
        guard ledger.sharesModels, ContentAddress.isValid(sha256), !store.contains(sha256) else { return }
        let incoming = store.root.appendingPathComponent(".from-ledger-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: incoming) }
        // A model the ledger does not hold either is refused by `open` as unknown.
        guard try ledger.copyModelBytes(sha256: sha256, to: incoming) else { return }
        try store.put(fileAt: incoming.path, expecting: sha256, from: "the ledger")
        logger.info("copied model from the ledger", metadata: ["sha256": "\(sha256)"])
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

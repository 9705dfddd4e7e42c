import NIOCore

/// One authenticated connection between an agent and the coordinator.
public struct FleetConnection: Sendable {
    /// The CN of the peer's verified certificate: the agent id on the coordinator side, the
    /// coordinator's CN on the agent side.
    public let identity: String
    /// Envelopes in and out. Use `executeThenClose` to read and write; a bad frame from the peer
    /// ends the inbound sequence with the `FrameError` after the channel was closed.
    public let channel: NIOAsyncChannel<Quantfleet_V1_Envelope, Quantfleet_V1_Envelope>

    public var remoteAddress: SocketAddress? { self.channel.channel.remoteAddress }
}

/// A configured channel whose TLS handshake may still be under way.
struct PendingFleetConnection: Sendable {
    let identity: EventLoopFuture<String>
    let channel: NIOAsyncChannel<Quantfleet_V1_Envelope, Quantfleet_V1_Envelope>

    /// Waits for the handshake; on failure the channel is closed (the pipeline already logged why).
    func established() async throws -> FleetConnection {
        do {
            return FleetConnection(identity: try await self.identity.get(), channel: self.channel)
        } catch {
            // Through executeThenClose, which finishes the outbound writer: NIO traps on a writer
            // dropped unfinished once its channel was active (a handshake that timed out in a storm).
            try? await self.channel.executeThenClose { _, _ in }
            throw error
        }
    }

    static func wrapping(_ channel: any Channel, identity: EventLoopFuture<String>) throws -> PendingFleetConnection {
        PendingFleetConnection(
            identity: identity,
            channel: try NIOAsyncChannel(wrappingChannelSynchronously: channel)
        )
    }
}

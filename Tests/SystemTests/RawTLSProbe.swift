import NIOCore
import NIOPosix
import NIOSSL

/// A hostile or broken client: connects over TLS (with whatever certificate it is given, or none),
/// writes raw bytes, and reports what came back before the server closed the connection.
enum RawTLSProbe {
    struct Outcome {
        /// Bytes the server sent back.
        var received: Int
        /// The server closed the connection (or the handshake failed) within the timeout.
        var closed: Bool
    }

    static func send(_ bytes: [UInt8], to port: Int, using context: NIOSSLContext, timeout: Duration = .seconds(5)) async throws -> Outcome {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            return Outcome(received: 0, closed: true)
        }
        return try await withThrowingTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                var received = 0
                do {
                    try await channel.executeThenClose { inbound, outbound in
                        try await outbound.write(ByteBuffer(bytes: bytes))
                        for try await buffer in inbound { received += buffer.readableBytes }
                    }
                } catch {
                    // A refused handshake or a reset ends the stream with an error: closed all the same.
                }
                return Outcome(received: received, closed: true)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            try? await channel.channel.close()
            return first ?? Outcome(received: 0, closed: false)
        }
    }

    /// A frame header announcing `length` bytes, followed by `body`.
    static func frame(announcing length: UInt32, body: [UInt8] = []) -> [UInt8] {
        withUnsafeBytes(of: length.bigEndian, Array.init) + body
    }
}

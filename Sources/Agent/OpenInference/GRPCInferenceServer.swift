import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle

/// The agent's gRPC server (the Open Inference Protocol and late labels), as one of the agent's
/// services: it serves until a graceful shutdown, which lets the calls in flight finish.
struct GRPCInferenceServer: Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let logger: Logger

    init(services: [any RegistrableRPCService], host: String, port: Int, logger: Logger) {
        server = GRPCServer(
            transport: .http2NIOPosix(address: .ipv4(host: host, port: port), transportSecurity: .plaintext),
            services: services)
        self.logger = logger
    }

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                if let address = try? await server.transport.listeningAddress {
                    logger.info("gRPC server listening (Open Inference Protocol, late labels)", metadata: ["address": "\(address)"])
                }
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}

import FleetProtocol
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Talks to the coordinator's admin API over HTTPS with an operator certificate: one request per
/// connection (operator commands are rare), the server verified against the fleet CA and by name.
public struct AdminClient: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let coordinator: URL
    private let host: String
    private let port: Int
    private let tls: NIOSSLContext

    /// `coordinator` is e.g. https://localhost:7444; its host must be a DNS name in the
    /// coordinator's certificate.
    public init(coordinator: URL, certificate: String, privateKey: String, trustRoots: String) throws {
        guard coordinator.scheme == "https", let host = coordinator.host, !host.isEmpty else {
            throw Failure(description: "--coordinator \(coordinator) must be an https:// URL such as https://localhost:7444")
        }
        self.coordinator = coordinator
        self.host = host
        self.port = coordinator.port ?? 443
        self.tls = try FleetTLS.clientContext(TLSFiles(certificate: certificate, privateKey: privateKey, trustRoots: trustRoots))
    }

    /// The admin API uses two verbs: GET reads, POST changes.
    public enum Method: String, Sendable {
        case get = "GET"
        case post = "POST"
    }

    public func get<Response: Decodable>(_ path: String, as type: Response.Type = Response.self) async throws -> Response {
        try decode(type, from: try await send(.get, path))
    }

    /// POSTs `body` as JSON and decodes the answer.
    public func post<Body: Encodable, Response: Decodable>(
        _ path: String, json body: Body, as type: Response.Type = Response.self
    ) async throws -> Response {
        try decode(type, from: try await send(.post, path, body: try JSONEncoder().encode(body), contentType: "application/json"))
    }

    /// Uploads a model file with its registration (`task` and its parameters, see the OpenAPI file);
    /// the answer is the JSON of an `AdminAPI.Model`.
    public func pushModel(_ file: URL, name: String, precision: String, task: [URLQueryItem] = []) async throws -> Data {
        var query = URLComponents()
        query.queryItems = [.init(name: "name", value: name), .init(name: "precision", value: precision)] + task
        return try await send(
            .post, "/v1/models?\(query.percentEncodedQuery ?? "")", body: try Data(contentsOf: file),
            contentType: "application/octet-stream")
    }

    /// The raw JSON of a successful response; a refusal throws with the server's message, and a
    /// failed exchange names the request and the connection's own error.
    public func send(_ method: Method, _ path: String, body: Data = Data(), contentType: String? = nil) async throws -> Data {
        var server = (host: host, port: port)
        var (head, data) = try await exchange(method, path, at: server, body: body, contentType: contentType)
        // A coordinator that does not hold the controller term sends rollout commands, once, to the
        // one that does (its certificate is checked by the name in the redirect).
        if head?.status == .temporaryRedirect, let location = head?.headers.first(name: "location").flatMap(URLComponents.init(string:)),
           location.scheme == "https", let redirectHost = location.host {
            server = (redirectHost, location.port ?? 443)
            let redirectedPath = location.percentEncodedPath + (location.percentEncodedQuery.map { "?\($0)" } ?? "")
            (head, data) = try await exchange(method, redirectedPath, at: server, body: body, contentType: contentType)
        }
        guard let status = head?.status else {
            throw Failure(description: "https://\(server.host):\(server.port) closed the connection without answering")
        }
        guard (200..<300).contains(status.code) else {
            let message = (try? JSONDecoder().decode(AdminAPI.ErrorBody.self, from: data))?.error.message
                ?? String(decoding: data, as: UTF8.self)
            throw Failure(description: "\(method.rawValue) \(path): \(status.code) \(status.reasonPhrase): \(message)")
        }
        return data
    }

    /// One request on a connection of its own. A write that fails because the connection closed is
    /// not the story: the server may have answered (a refusal before the whole body arrived) or the
    /// pipeline may hold the reason (a TLS alert), and both arrive on the inbound side, so it is read
    /// before the write's error is reported.
    private func exchange(
        _ method: Method, _ path: String, at server: (host: String, port: Int), body: Data, contentType: String?
    ) async throws -> (HTTPResponseHead?, Data) {
        do {
            return try await exchangeOnce(method, path, host: server.host, port: server.port, body: body, contentType: contentType)
        } catch {
            throw Failure(description: "\(method.rawValue) \(path) to https://\(server.host):\(server.port) failed: \(error)")
        }
    }

    private func exchangeOnce(
        _ method: Method, _ path: String, host: String, port: Int, body: Data, contentType: String?
    ) async throws -> (HTTPResponseHead?, Data) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { [tls, host] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: host))
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method.rawValue), uri: path)
            head.headers.add(name: "host", value: "\(host):\(port)")
            head.headers.add(name: "content-length", value: "\(body.count)")
            head.headers.add(name: "connection", value: "close")
            if let contentType { head.headers.add(name: "content-type", value: contentType) }
            var writeError: (any Error)?
            do {
                try await outbound.write(.head(head))
                if !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                try await outbound.write(.end(nil))
            } catch {
                writeError = error
            }
            var response: HTTPResponseHead?
            var data = Data()
            for try await part in inbound {
                switch part {
                case .head(let head): response = head
                case .body(let buffer): data.append(contentsOf: buffer.readableBytesView)
                case .end: return (response, data)
                }
            }
            if let writeError, response == nil { throw writeError }
            return (response, data)
        }
    }

    public func decode<Response: Decodable>(_ type: Response.Type, from data: Data) throws -> Response {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(type, from: data)
        } catch {
            throw Failure(description: "the coordinator's answer is not a \(type): \(error)")
        }
    }
}

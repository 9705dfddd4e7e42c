import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain blocking TCP client, so that the tests measure the proxy with the socket calls any
/// program makes, and can tell "nothing arrived" from "the connection was closed".
final class BlockingClient {
    private let fd: Int32

    struct Received {
        var bytes: [UInt8]
        /// The peer closed (or reset) the connection.
        var closed: Bool
    }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw POSIXError(.init(rawValue: errno) ?? .ECONNREFUSED)
        }
        // Reads wake up every 20 ms, so `receive` can keep its deadline.
        var timeout = timeval(tv_sec: 0, tv_usec: 20_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw POSIXError(.init(rawValue: errno) ?? .EPIPE) }
            offset += sent
        }
    }

    /// Reads until `count` bytes arrived, the peer closed, or `timeout` passed.
    func receive(_ count: Int, within timeout: Duration) -> Received {
        let deadline = ContinuousClock.now + timeout
        var received = Received(bytes: [], closed: false)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while received.bytes.count < count, ContinuousClock.now < deadline {
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got > 0 {
                received.bytes += chunk[0..<got]
            } else if got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                received.closed = true
                break
            }
        }
        return received
    }
}

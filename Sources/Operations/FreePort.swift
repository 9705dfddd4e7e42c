import Foundation
import NIOConcurrencyHelpers

/// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's pick for port 0), and
/// that this process has not handed out before. A port handed out stays free only until its daemon
/// binds it, which for a process being started takes a while; meanwhile the kernel may offer the
/// same port again to the next caller, and two daemons of one fleet would race for it ("Address
/// already in use"). Remembering what was handed out closes that window within the process.
public enum FreePort {
    private static let handedOut = NIOLockedValueBox<Set<Int>>([])

    public static func allocate() throws -> Int {
        for _ in 0..<64 {
            let port = try kernelPick()
            if handedOut.withLockedValue({ $0.insert(port).inserted }) { return port }
        }
        throw POSIXError(.EADDRINUSE)
    }

    private static func kernelPick() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

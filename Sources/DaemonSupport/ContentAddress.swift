import Crypto
import Foundation

/// Models are named by the lowercase hex SHA-256 of their bytes, on the wire and on disk.
public enum ContentAddress {
    /// True for exactly 64 lowercase hex digits; anything else (e.g. `../x`) is never used as a path.
    public static func isValid(_ address: String) -> Bool {
        address.utf8.count == 64 && address.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    public static func hex<D: Digest>(_ digest: D) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    public static func sha256(of data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    public static func sha256(ofFileAt url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
            hasher.update(data: block)
        }
        return hex(hasher.finalize())
    }
}

import Foundation
import NIOConcurrencyHelpers

/// A number that only grows, kept in one small text file so it survives restarts and crashes: the
/// agent's highest accepted assignment version. A raise writes a temporary file, flushes it to disk,
/// renames it over the old one and flushes the folder, so after a crash the file holds the old value
/// or the new one, never a torn write.
public final class HighWaterMarkFile: Sendable {
    public enum FileError: Error, CustomStringConvertible, Equatable {
        case unreadable(path: String, reason: String)
        case notANumber(path: String, content: String)
        case writeFailed(path: String, reason: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "\(path) cannot be read: \(reason)"
            case .notANumber(let path, let content):
                "\(path) should hold one unsigned decimal number, but holds \(content.debugDescription); "
                    + "it is written atomically, so something else changed it: restore it, or delete it to trust any version again"
            case .writeFailed(let path, let reason): "\(path) cannot be written: \(reason)"
            }
        }
    }

    public let path: String
    private let current: NIOLockedValueBox<UInt64>

    /// Reads the file; a missing file is 0 (nothing accepted yet).
    public init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            current = NIOLockedValueBox(0)
            return
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw FileError.unreadable(path: path, reason: "\(error)")
        }
        guard let value = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw FileError.notANumber(path: path, content: String(text.prefix(40)))
        }
        current = NIOLockedValueBox(value)
    }

    public var value: UInt64 { current.withLockedValue { $0 } }

    /// Stores `value` durably if it is above the current one; returns once it is on disk.
    public func raise(to value: UInt64) throws {
        try current.withLockedValue { current in
            guard value > current else { return }
            try store(value)
            current = value
        }
    }

    private func store(_ value: UInt64) throws {
        let temporary = path + ".tmp"
        do {
            try Self.writeSynced(Data("\(value)\n".utf8), to: temporary)
            guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            try Self.syncFolder(of: path)
        } catch {
            throw FileError.writeFailed(path: path, reason: "\(error)")
        }
    }

    private static func writeSynced(_ data: Data, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let file = FileHandle(forWritingAtPath: path)
        else { throw POSIXError(.EACCES) }
        defer { try? file.close() }
        try file.write(contentsOf: data)
        try file.synchronize()
    }

    /// Makes the rename itself durable.
    private static func syncFolder(of path: String) throws {
        let folder = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY)
        guard folder >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(folder) }
        guard fsync(folder) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }
}

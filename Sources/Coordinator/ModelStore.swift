import Crypto
import DaemonSupport
import Foundation

/// Models kept by content: `<root>/sha256/<hex>`. A model is hashed while it is copied in and is
/// renamed into place only when complete, so a reader never sees a partial file.
public struct ModelStore: Sendable {
    public struct StoredModel: Sendable, Equatable {
        public let sha256: String
        public let sizeBytes: Int
    }

    public enum StoreError: Error, CustomStringConvertible {
        case unreadable(path: String)
        case unknownModel(sha256: String)
        case offsetBeyondEnd(sha256: String, offset: UInt64, size: Int)
        case contentMismatch(expected: String, actual: String, source: String)

        public var description: String {
            switch self {
            case .unreadable(let path): "model file \(path) cannot be read"
            case .unknownModel(let sha256): "model \(sha256) is not in the store"
            case .offsetBeyondEnd(let sha256, let offset, let size):
                "offset \(offset) is past the end of model \(sha256) (\(size) bytes)"
            case .contentMismatch(let expected, let actual, let source):
                "model \(expected) from \(source) hashes to \(actual); not stored"
            }
        }
    }

    public let root: URL
    private var objects: URL { root.appendingPathComponent("sha256", isDirectory: true) }

    public init(root: String) throws {
        self.root = URL(fileURLWithPath: root, isDirectory: true)
        try FileManager.default.createDirectory(at: objects, withIntermediateDirectories: true)
    }

    /// Copies the file into the store (a no-op when the same content is already there).
    public func put(fileAt path: String) throws -> StoredModel {
        guard let input = FileHandle(forReadingAtPath: path) else { throw StoreError.unreadable(path: path) }
        defer { try? input.close() }
        let staging = objects.appendingPathComponent(".incoming-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: staging.path, contents: nil)
        let output = try FileHandle(forWritingTo: staging)
        var hasher = SHA256()
        var size = 0
        do {
            while let block = try input.read(upToCount: 1 << 20), !block.isEmpty {
                hasher.update(data: block)
                try output.write(contentsOf: block)
                size += block.count
            }
            try output.synchronize()
            try output.close()
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
        let sha256 = ContentAddress.hex(hasher.finalize())
        let destination = try url(of: sha256)
        if FileManager.default.fileExists(atPath: destination.path) {
            try FileManager.default.removeItem(at: staging)
        } else {
            try FileManager.default.moveItem(at: staging, to: destination)
        }
        return StoredModel(sha256: sha256, sizeBytes: size)
    }

    /// Copies in a model known by its SHA-256 (from another coordinator, say), refused if the
    /// bytes hash to anything else.
    public func put(fileAt path: String, expecting sha256: String, from source: String) throws {
        let stored = try put(fileAt: path)
        guard stored.sha256 == sha256 else {
            try? FileManager.default.removeItem(at: try url(of: stored.sha256))
            throw StoreError.contentMismatch(expected: sha256, actual: stored.sha256, source: source)
        }
    }

    public func contains(_ sha256: String) -> Bool {
        (try? url(of: sha256)).map { FileManager.default.fileExists(atPath: $0.path) } ?? false
    }

    /// The model's file, to copy its bytes into a shared ledger.
    public func file(of sha256: String) throws -> URL {
        try url(of: sha256)
    }

    public func size(of sha256: String) throws -> Int {
        let attributes = try? FileManager.default.attributesOfItem(atPath: try url(of: sha256).path)
        guard let size = attributes?[.size] as? Int else { throw StoreError.unknownModel(sha256: sha256) }
        return size
    }

    /// An open model file, read sequentially by one transfer.
    public final class Reader {
        public let size: Int
        private let handle: FileHandle

        fileprivate init(handle: FileHandle, size: Int) {
            self.handle = handle
            self.size = size
        }

        deinit { try? handle.close() }

        /// Up to `maxLength` bytes from `offset`.
        public func read(at offset: UInt64, maxLength: Int) throws -> Data {
            try handle.seek(toOffset: offset)
            return try handle.read(upToCount: maxLength) ?? Data()
        }
    }

    /// Opens a model for a transfer starting at `offset`.
    public func open(_ sha256: String, from offset: UInt64) throws -> Reader {
        let size = try size(of: sha256)
        guard offset <= UInt64(size) else { throw StoreError.offsetBeyondEnd(sha256: sha256, offset: offset, size: size) }
        guard let handle = FileHandle(forReadingAtPath: try url(of: sha256).path) else {
            throw StoreError.unknownModel(sha256: sha256)
        }
        return Reader(handle: handle, size: size)
    }

    private func url(of sha256: String) throws -> URL {
        guard ContentAddress.isValid(sha256) else { throw StoreError.unknownModel(sha256: sha256) }
        return objects.appendingPathComponent(sha256)
    }
}

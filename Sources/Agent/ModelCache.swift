import Crypto
import DaemonSupport
import FleetProtocol
import Foundation
import Logging

/// Models on the device by content address: `<dir>/<sha256>.onnx`. Downloads grow a `.partial`
/// file chunk by chunk (so a dropped connection resumes by offset); each chunk's own SHA-256 is
/// checked on arrival and the whole model's before it is renamed into place. Nothing unverified is
/// ever handed to the inference engine.
actor ModelCache {
    enum ChunkOutcome: Equatable {
        /// The chunk was appended; more are coming.
        case progressing
        /// The model is complete and verified.
        case complete
        /// A chunk or the assembled model failed verification: ask again from `offset`.
        case refetch(offset: UInt64)
        /// Not the chunk we wait for (a stale stream after a refetch): dropped.
        case ignored
        /// The assembled model failed verification `maximumAttempts` times in a row: the source
        /// serves other bytes than the address names (a damaged or tampered store), so asking again
        /// at once cannot help. The count starts again for a later try.
        case rejected(reason: String)
    }

    /// Whole downloads of one model that may fail verification before it is refused.
    static let maximumAttempts = 3

    enum CacheError: Error, CustomStringConvertible {
        case notCached(sha256: String)
        case corrupt(sha256: String, actual: String)

        var description: String {
            switch self {
            case .notCached(let sha256): "model \(sha256) is not in the cache"
            case .corrupt(let sha256, let actual): "cached model \(sha256) hashes to \(actual); removed"
            }
        }
    }

    private let directory: URL
    private let logger: Logger
    /// Failed whole-model verifications per address, since the agent started.
    private var failedAttempts: [String: Int] = [:]

    init(directory: String, logger: Logger) throws {
        self.directory = URL(fileURLWithPath: directory, isDirectory: true)
        self.logger = logger
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
    }

    /// Content addresses of complete models on disk (each is verified again before loading).
    func cachedAddresses() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".onnx") }.map { String($0.dropLast(5)) }.filter(ContentAddress.isValid)
    }

    func has(_ sha256: String) -> Bool {
        FileManager.default.fileExists(atPath: completeURL(sha256).path)
    }

    /// Where a download of this model should resume.
    func resumeOffset(_ sha256: String) -> UInt64 {
        partialSize(sha256)
    }

    func receive(_ chunk: ModelChunk) throws -> ChunkOutcome {
        guard ContentAddress.isValid(chunk.sha256) else { return .ignored }
        let expected = partialSize(chunk.sha256)
        guard chunk.offset == expected, !has(chunk.sha256) else { return .ignored }
        guard Data(SHA256.hash(data: chunk.data)) == chunk.chunkSha256,
              chunk.offset + UInt64(chunk.data.count) <= chunk.totalSize
        else {
            logger.warning("model chunk failed verification; asking again", metadata: [
                "sha256": "\(chunk.sha256)", "offset": "\(chunk.offset)", "bytes": "\(chunk.data.count)",
            ])
            return .refetch(offset: expected)
        }
        try append(chunk.data, to: partialURL(chunk.sha256))
        CrashPoint.modelDownload.reach()
        guard chunk.offset + UInt64(chunk.data.count) == chunk.totalSize else { return .progressing }

        let actual = try ContentAddress.sha256(ofFileAt: partialURL(chunk.sha256))
        guard actual == chunk.sha256 else {
            try FileManager.default.removeItem(at: partialURL(chunk.sha256))
            let attempts = failedAttempts[chunk.sha256, default: 0] + 1
            failedAttempts[chunk.sha256] = attempts
            guard attempts < Self.maximumAttempts else {
                failedAttempts[chunk.sha256] = nil
                return .rejected(reason: "downloaded \(attempts) times, the model never hashed to its address (last to \(actual))")
            }
            logger.warning("assembled model does not match its address; downloading again", metadata: [
                "sha256": "\(chunk.sha256)", "actual": "\(actual)", "attempt": "\(attempts)",
            ])
            return .refetch(offset: 0)
        }
        try FileManager.default.moveItem(at: partialURL(chunk.sha256), to: completeURL(chunk.sha256))
        logger.info("model downloaded and verified", metadata: ["sha256": "\(chunk.sha256)", "bytes": "\(chunk.totalSize)"])
        return .complete
    }

    /// The verified file of a cached model; a file that no longer matches its address is removed.
    func verifiedFile(_ sha256: String) throws -> URL {
        let url = completeURL(sha256)
        guard FileManager.default.fileExists(atPath: url.path) else { throw CacheError.notCached(sha256: sha256) }
        let actual = try ContentAddress.sha256(ofFileAt: url)
        guard actual == sha256 else {
            try? FileManager.default.removeItem(at: url)
            throw CacheError.corrupt(sha256: sha256, actual: actual)
        }
        return url
    }

    private func completeURL(_ sha256: String) -> URL { directory.appendingPathComponent("\(sha256).onnx") }
    private func partialURL(_ sha256: String) -> URL { directory.appendingPathComponent("\(sha256).partial") }

    private func partialSize(_ sha256: String) -> UInt64 {
        let attributes = try? FileManager.default.attributesOfItem(atPath: partialURL(sha256).path)
        return (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    private func append(_ data: Data, to url: URL) throws {
        if !FileManager.default.fileExists(atPath: url.path) {
            FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: data)
    }
}

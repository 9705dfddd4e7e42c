import DaemonSupport
import Foundation

/// Damages the coordinator's model store in place, as a failing disk or a botched copy would: one
/// byte in the middle of every stored model is flipped, and flipped back by `restore()`. The
/// coordinator serves chunks as the store holds them, with chunk hashes computed from those bytes,
/// so only the agent's check of the whole model against its address can catch the damage.
struct StoreCorruption: Sendable {
    let files: [URL]

    /// Flips the bytes of every model under `store` (the coordinator's `model-store`).
    static func corrupt(store: URL) throws -> StoreCorruption {
        let objects = store.appendingPathComponent("sha256")
        let files = try FileManager.default.contentsOfDirectory(at: objects, includingPropertiesForKeys: nil)
            .filter { ContentAddress.isValid($0.lastPathComponent) }
        for file in files { try flipMiddleByte(of: file) }
        return StoreCorruption(files: files)
    }

    func restore() throws {
        for file in files { try Self.flipMiddleByte(of: file) }
    }

    /// Flipping twice restores the byte, so no copy of the original is needed.
    private static func flipMiddleByte(of file: URL) throws {
        let handle = try FileHandle(forUpdating: file)
        defer { try? handle.close() }
        let middle = try handle.seekToEnd() / 2
        try handle.seek(toOffset: middle)
        guard let byte = try handle.read(upToCount: 1)?.first else { return }
        try handle.seek(toOffset: middle)
        try handle.write(contentsOf: Data([byte ^ 0xFF]))
        try handle.synchronize()
    }
}

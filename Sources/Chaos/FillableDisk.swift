import Foundation
import Operations

/// A daemon's state directory (an agent's model cache and window spool, the coordinator's ledger
/// and model store) on a small tmpfs of its own, so a campaign can fill the disk under a running
/// process and empty it again. Mounting needs root (or CAP_SYS_ADMIN); where it is refused, `mount`
/// throws with the system's message.
final class FillableDisk: Sendable {
    /// Room for the campaign's models (under 1 MB), a spool of thousands of windows, and a ledger of
    /// a long campaign.
    static let size = "64m"

    let directory: URL
    private var filler: URL { directory.appendingPathComponent(".chaos-filler") }

    private init(directory: URL) {
        self.directory = directory
    }

    /// Mounts a tmpfs at `directory`, created if missing.
    static func mount(at directory: URL) throws -> FillableDisk {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try ToolRun.output(of: "/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", directory.path])
        return FillableDisk(directory: directory)
    }

    /// Writes a filler file until the file system refuses more; returns the bytes written.
    @discardableResult
    func fill() -> Int {
        FileManager.default.createFile(atPath: filler.path, contents: nil)
        guard let handle = try? FileHandle(forWritingTo: filler) else { return 0 }
        defer { try? handle.close() }
        var written = 0
        for blockSize in [1 << 20, 4096, 1] {
            let block = Data(count: blockSize)
            while (try? handle.write(contentsOf: block)) != nil { written += blockSize }
        }
        return written
    }

    /// Removes the filler: the disk has room again.
    func empty() {
        try? FileManager.default.removeItem(at: filler)
    }

    /// Unmounts, keeping what the disk held (the spool the checks and later readers need) in the
    /// directory, now on the disk beneath.
    func unmount() throws {
        empty()
        let kept = directory.deletingLastPathComponent().appendingPathComponent(".\(directory.lastPathComponent)-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: directory, to: kept)
        try ToolRun.output(of: "/bin/umount", [directory.path])
        try FileManager.default.removeItem(at: directory)
        try FileManager.default.moveItem(at: kept, to: directory)
    }
}

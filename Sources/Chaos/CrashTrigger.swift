import DaemonSupport
import Foundation

/// Arms one daemon's crash points (DaemonSupport's `CrashPoint`): a file per armed point in a
/// directory of the daemon's own, named to it by `QUANTFLEET_CRASH_POINTS_DIR`.
struct CrashTrigger: Sendable {
    let directory: URL

    init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        disarmAll()
    }

    /// The variable the daemon's environment needs.
    var variables: [String: String] { [CrashPoint.environmentVariable: directory.path] }

    func arm(_ point: CrashPoint) throws {
        try Data().write(to: file(point))
    }

    /// Disarms `point`; true if it was still armed (the daemon did not reach it), false if it fired.
    func disarm(_ point: CrashPoint) -> Bool {
        unlink(file(point).path) == 0
    }

    func disarmAll() {
        for point in CrashPoint.allCases { _ = disarm(point) }
    }

    private func file(_ point: CrashPoint) -> URL { directory.appendingPathComponent(point.rawValue) }
}

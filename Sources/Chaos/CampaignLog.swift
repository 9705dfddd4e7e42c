import Foundation
import NIOConcurrencyHelpers

/// Every fault as it starts and ends, with its time from the start of the fault window, in a file
/// beside the fleet's logs: read with the daemons' own logs, it says what each saw and when.
final class CampaignLog: Sendable {
    private let file: NIOLockedValueBox<FileHandle>
    private let start: ContinuousClock.Instant

    init(_ url: URL, start: ContinuousClock.Instant) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CampaignError("cannot create the campaign log \(url.path)")
        }
        file = NIOLockedValueBox(try FileHandle(forWritingTo: url))
        self.start = start
    }

    func write(_ line: String) {
        let offset = String(format: "%9.3f s  ", (ContinuousClock.now - start) / .seconds(1))
        file.withLockedValue { $0.write(Data((offset + line + "\n").utf8)) }
    }
}

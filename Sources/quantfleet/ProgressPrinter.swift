import Foundation
import Operations
import NIOConcurrencyHelpers

/// One progress line on standard error, redrawn at most ten times a second.
final class ProgressPrinter: Sendable {
    private let lastDrawn = NIOLockedValueBox(ContinuousClock.now - .seconds(1))

    func show(_ progress: TrafficReplay.Progress) {
        let due = lastDrawn.withLockedValue { last in
            guard last.duration(to: .now) >= .milliseconds(100) || progress.succeeded + progress.failed == progress.total
            else { return false }
            last = .now
            return true
        }
        guard due else { return }
        let done = progress.succeeded + progress.failed
        let line = "\rreplaying \(done)/\(progress.total)  \(progress.failed) failed  \(Int(progress.requestsPerSecond)) req/s"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

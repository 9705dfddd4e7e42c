import Logging
import NIOConcurrencyHelpers

/// Keeps every log line (message plus metadata) so tests can check what a handler reported.
final class CapturedLogs: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])

    var all: [String] { self.lines.withLockedValue { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in CapturingHandler(sink: self) }
    }

    func contains(_ fragment: String) -> Bool {
        self.all.contains { $0.contains(fragment) }
    }

    fileprivate func append(_ line: String) {
        self.lines.withLockedValue { $0.append(line) }
    }
}

private struct CapturingHandler: LogHandler {
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        self.sink.append("\(event.level) \(event.message) \(fields.joined(separator: " "))")
    }
}

import Foundation
import Logging
import NIOConcurrencyHelpers

/// One JSON object per line (`--log-format json`), for log shippers: `ts` (ISO 8601, UTC, ms),
/// `level`, `label`, `message`, `source`, and the metadata under `metadata` (nested as logged).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    private let label: String
    private let output: LineOutput

    /// A handler writing to standard error, as the daemons' text logs do.
    public init(label: String) {
        self.init(label: label, output: .standardError)
    }

    init(label: String, output: LineOutput) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var object: [String: Any] = [
            "ts": Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)),
            "level": event.level.rawValue,
            "label": label,
            "message": event.message.description,
            "source": event.source,
        ]
        if !merged.isEmpty { object["metadata"] = merged.mapValues(Self.json) }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        output.write(data + Data("\n".utf8))
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }
}

/// Where log lines go; whole lines are written under a lock so that concurrent loggers never interleave.
final class LineOutput: Sendable {
    private let lock = NIOLock()
    private let write: @Sendable (Data) -> Void

    init(_ write: @escaping @Sendable (Data) -> Void) {
        self.write = write
    }

    static let standardError = LineOutput { FileHandle.standardError.write($0) }

    func write(_ line: Data) {
        lock.withLock { write(line) }
    }
}

/// How a daemon writes its log: swift-log's text lines, or JSON lines.
public enum LogFormat: String, CaseIterable, Sendable {
    case text, json

    /// Installs the format process-wide; call once, first thing in `main`.
    public func bootstrap() {
        switch self {
        case .text: LoggingSystem.bootstrap(StreamLogHandler.standardError)
        case .json: LoggingSystem.bootstrap(JSONLogHandler.init(label:))
        }
    }
}

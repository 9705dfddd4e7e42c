import DaemonSupport
import Foundation
import NIOConcurrencyHelpers

/// The highest assignment version the agent accepted for each model name, each kept durably in a
/// `HighWaterMarkFile` of its own under `directory`. Per name, because each name's assignment keeps
/// its version while its mode stays: one mark for all would refuse the renewal of an older name's
/// assignment once a newer name's had raised it.
///
/// A name without a file starts from `floor`: the one mark an agent kept before it served several
/// models (`accepted-assignment-version`), so an upgrade does not open a window for replays.
final class AcceptedVersions: Sendable {
    let directory: String
    let floor: UInt64
    private let marks = NIOLockedValueBox<[String: HighWaterMarkFile]>([:])

    init(directory: String, floor: UInt64) throws {
        self.directory = directory
        self.floor = floor
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The highest version accepted for `modelName`, at least `floor`.
    func highest(for modelName: String) throws -> UInt64 {
        max(floor, try mark(for: modelName).value)
    }

    /// Stores `version` for `modelName` durably if it is higher; returns once it is on disk.
    func raise(_ modelName: String, to version: UInt64) throws {
        try mark(for: modelName).raise(to: version)
    }

    private func mark(for modelName: String) throws -> HighWaterMarkFile {
        try marks.withLockedValue { marks in
            if let mark = marks[modelName] { return mark }
            let mark = try HighWaterMarkFile(path: "\(directory)/\(Self.fileName(for: modelName))")
            marks[modelName] = mark
            return mark
        }
    }

    /// The model name as a file name: ASCII letters, digits, `-` and `_` as they are, every other
    /// byte percent-encoded, so no name can reach outside the folder (`..`, `/`).
    static func fileName(for modelName: String) -> String {
        var name = "model-"
        for byte in modelName.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"):
                name.append(Character(Unicode.Scalar(byte)))
            default:
                name += String(format: "%%%02X", byte)
            }
        }
        return name
    }
}

import Foundation
import NIOConcurrencyHelpers

/// The calendar time a daemon acts on: certificate validity, signed-metadata expiry, window
/// timestamps. `system` is the machine's. `offset(file:)` is the machine's moved by the seconds a
/// file holds, which is how a fault campaign steps an agent's clock (as NTP does) while its
/// monotonic clock, which timers and timeouts use, runs on. Preloading libfaketime instead leaves a
/// Swift program's `CommandLine.arguments` empty.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Date

    public init(_ read: @escaping @Sendable () -> Date) {
        self.read = read
    }

    public func now() -> Date { read() }

    public var nowMillis: UInt64 { UInt64(max(0, now().timeIntervalSince1970 * 1000)) }

    public static let system = WallClock { Date() }

    /// The system clock moved by the whole seconds written in `file` ("+3600", "-600"; a missing
    /// or unreadable file is 0), which is read again at most once a second.
    public static func offset(file: URL) -> WallClock {
        let offset = OffsetFile(file)
        return WallClock { Date().addingTimeInterval(offset.seconds()) }
    }

    private final class OffsetFile: Sendable {
        let file: URL
        let cached = NIOLockedValueBox<(seconds: TimeInterval, readAt: ContinuousClock.Instant?)>((0, nil))

        init(_ file: URL) {
            self.file = file
        }

        func seconds(now: ContinuousClock.Instant = .now) -> TimeInterval {
            cached.withLockedValue { cached in
                if let readAt = cached.readAt, readAt.duration(to: now) < .seconds(1) { return cached.seconds }
                let text = (try? String(contentsOf: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                cached = (TimeInterval(Int(text) ?? 0), now)
                return cached.seconds
            }
        }
    }
}

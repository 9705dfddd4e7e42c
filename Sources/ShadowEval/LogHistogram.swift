import Foundation

/// A mergeable quantile sketch for positive values (latencies, errors): counts in fixed logarithmic
/// buckets, the DDSketch layout. Buckets are fixed by `relativeAccuracy`, not by the data, so two
/// histograms merge by adding counts: exactly, in any order, with any grouping.
///
/// Every quantile is reported within `relativeAccuracy` of a value of the right rank.
public struct LogHistogram: Sendable, Equatable, Codable {
    /// 1 %: bucket i holds (gamma^(i-1), gamma^i] with gamma = 1.01 / 0.99; about 230 buckets per
    /// factor of 10^10, so a window's histogram stays small.
    public static let relativeAccuracy = 0.01
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let logGamma = log(gamma)

    /// Samples per bucket index; only buckets that hold something are stored.
    public private(set) var buckets: [Int: Int] = [:]
    /// Values of 0 (or below): a latency under the clock's resolution, or outputs that agree exactly.
    public private(set) var zeros = 0
    /// NaN values: counted so totals still add up, never placed in a bucket.
    public private(set) var notANumber = 0

    public init() {}

    /// Samples recorded, NaN ones included.
    public var count: Int { buckets.values.reduce(zeros + notANumber, +) }

    public mutating func record(_ value: Double) {
        if value.isNaN {
            notANumber += 1
        } else if value <= 0 {
            zeros += 1
        } else {
            buckets[Self.bucket(of: value), default: 0] += 1
        }
    }

    public mutating func merge(_ other: LogHistogram) {
        buckets.merge(other.buckets, uniquingKeysWith: +)
        zeros += other.zeros
        notANumber += other.notANumber
    }

    /// The value at rank `quantile` (0 the smallest, 1 the largest) of the non-NaN samples, within
    /// `relativeAccuracy`; nil when there are none.
    public func quantile(_ quantile: Double) -> Double? {
        precondition((0...1).contains(quantile), "quantile must be in [0, 1], got \(quantile)")
        let ordered = count - notANumber
        guard ordered > 0 else { return nil }
        let rank = Int((quantile * Double(ordered - 1)).rounded(.down))
        if rank < zeros { return 0 }
        var seen = zeros
        for index in buckets.keys.sorted() {
            seen += buckets[index]!
            if rank < seen { return Self.representative(of: index) }
        }
        return Self.representative(of: buckets.keys.max()!)
    }

    static func bucket(of value: Double) -> Int {
        Int((log(value) / logGamma).rounded(.up))
    }

    /// The point of bucket i within relative accuracy of all of (gamma^(i-1), gamma^i].
    static func representative(of index: Int) -> Double {
        2 * pow(gamma, Double(index)) / (gamma + 1)
    }
}

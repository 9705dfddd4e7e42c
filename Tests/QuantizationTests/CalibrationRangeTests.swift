import Foundation
@testable import Quantization
import ShadowEval
import XCTest

/// How each calibration method turns a histogram into a range.
final class CalibrationRangeTests: XCTestCase {
    /// A million values in [0, 1], crowded toward zero, and one outlier at 50: a ReLU activation's shape.
    private func heavyTailedHistogram() -> ValueHistogram {
        var histogram = ValueHistogram(lower: 0, upper: 50)
        histogram.add((0..<1_000_000).map { pow(Float($0) / 1_000_000, 3) } + [50])
        return histogram
    }

    func testMinmaxKeepsTheWholeObservedRange() {
        XCTAssertEqual(RangeSelection.range(.minmax, histogram: heavyTailedHistogram()), 0...50)
    }

    func testPercentileMseAndEntropyClipTheOutlier() {
        for method in [CalibrationMethod.percentile, .mse, .entropy] {
            let range = RangeSelection.range(method, histogram: heavyTailedHistogram())
            XCTAssertEqual(range.lowerBound, 0, "\(method)")
            XCTAssertLessThan(range.upperBound, 50, "\(method) should clip the single outlier")
            XCTAssertGreaterThanOrEqual(range.upperBound, 0.99, "\(method) must keep the bulk of the values")
        }
    }

    func testActivationParametersRepresentZeroExactly() {
        let parameters = ActivationQuantization(range: -1...3)
        XCTAssertEqual(parameters.scale, 4 / 255, accuracy: 1e-7)
        XCTAssertEqual(parameters.zeroPoint, 64)
        XCTAssertEqual(parameters.roundTrip(0), 0)
        XCTAssertEqual(ActivationQuantization(range: 2...5).zeroPoint, 0, "ranges stretch to contain zero")
    }

    func testPerChannelWeightScalesFollowTheChannelAxis() {
        let weights: [Float] = [1, -254, 127, 2]
        let columns = SymmetricInt8Quantization(weights, shape: [2, 2], outputChannelAxis: 1, perChannel: true, range: .full)
        XCTAssertEqual(columns.scales, [1, 2])
        XCTAssertEqual(columns.values, [1, -127, 127, 1])
        let rows = SymmetricInt8Quantization(weights, shape: [2, 2], outputChannelAxis: 0, perChannel: true, range: .full)
        XCTAssertEqual(rows.scales, [2, 1])
        XCTAssertEqual(SymmetricInt8Quantization(weights, shape: [2, 2], outputChannelAxis: 1, perChannel: false, range: .full).scales, [2])
        XCTAssertEqual(SymmetricInt8Quantization(weights, shape: [2, 2], outputChannelAxis: 1, perChannel: false, range: .reduced).values,
                       [0, -63, 32, 0])
    }

    /// Pair-safe weights: along the reduction axis (K of a [K, N] MatMul weight; every axis but
    /// the first of a Conv's), levels 2j and 2j + 1 of a channel sum to at most 128 in magnitude.
    func testPairSafeScalesKeepAdjacentReductionPairsWithin128() {
        // Column 0's pair (100, 100) sets its scale to 200 / 128; column 1 fits the full range.
        let weights: [Float] = [100, 127, 100, 1, 10, 0, -20, 0]
        let quantized = SymmetricInt8Quantization(weights, shape: [4, 2], outputChannelAxis: 1, perChannel: true, range: .pairSafe)
        XCTAssertEqual(quantized.scales, [1.5625, 1])
        XCTAssertEqual(quantized.values, [64, 127, 64, 1, 6, 0, -13, 0])

        var generator = SeededGenerator(seed: 9)
        for (shape, axis) in [([64, 24], 1), ([24, 64], 0), ([8, 5, 3, 3], 0)] {
            let count = shape.reduce(1, *)
            let values = (0..<count).map { _ in Float.random(in: -1...1, using: &generator) * (Bool.random(using: &generator) ? 1 : 30) }
            let safe = SymmetricInt8Quantization(values, shape: shape, outputChannelAxis: axis, perChannel: true, range: .pairSafe)
            // Reduction position p of channel c sits at (p / inner) * inner * channels + c * inner + p % inner.
            let (channels, inner) = (shape[axis], shape[(axis + 1)...].reduce(1, *))
            let positions = count / channels
            for channel in 0..<channels {
                let levels = (0..<positions).map { Int(safe.values[($0 / inner) * inner * channels + channel * inner + $0 % inner]) }
                for pair in stride(from: 0, to: positions - 1, by: 2) {
                    XCTAssertLessThanOrEqual(abs(levels[pair]) + abs(levels[pair + 1]), 128, "\(shape) channel \(channel)")
                }
                XCTAssert(levels.contains { abs($0) >= 63 }, "the scale is no larger than the pair limit needs")
            }
        }
    }

    /// A channel of values too small for a normal scale gets scale 1 and levels 0, not a subnormal scale.
    func testTinyChannelsGetScaleOneNotASubnormalScale() {
        let quantized = SymmetricInt8Quantization([1e-38, 0.5, -1e-39, 1], shape: [2, 2], outputChannelAxis: 1, perChannel: true, range: .full)
        XCTAssertEqual(quantized.scales[0], 1)
        XCTAssertEqual(quantized.values[0], 0)
        XCTAssertEqual(quantized.values[2], 0)
    }
}

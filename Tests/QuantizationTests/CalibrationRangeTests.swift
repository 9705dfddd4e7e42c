import Foundation
@testable import Quantization
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
        let columns = SymmetricInt8Quantization(weights, shape: [2, 2], channelAxis: 1)
        XCTAssertEqual(columns.scales, [1, 2])
        XCTAssertEqual(columns.values, [1, -127, 127, 1])
        let rows = SymmetricInt8Quantization(weights, shape: [2, 2], channelAxis: 0)
        XCTAssertEqual(rows.scales, [2, 1])
        XCTAssertEqual(SymmetricInt8Quantization(weights, shape: [2, 2], channelAxis: nil).scales, [2])
    }
}

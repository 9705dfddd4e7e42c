@testable import Inference
import XCTest

/// Rounding into float8 and float4, checked against values ml_dtypes gives (the oracle of onnx's
/// reference implementation and of onnxruntime).
final class SmallFloatFormatTests: XCTestCase {
    func testRoundingIsToNearestWithTiesToEvenCodes() {
        XCTAssertEqual(SmallFloatFormat.e4m3fn.rounded(0.2), 0.203125)
        XCTAssertEqual(SmallFloatFormat.e5m2.rounded(0.2), 0.1875)
        XCTAssertEqual(SmallFloatFormat.e2m1.rounded(2.5), 2, "a tie between 2 and 3 goes to 2's even code")
        XCTAssertEqual(SmallFloatFormat.e2m1.rounded(0.25), 0, "a tie between 0 and 0.5 goes to 0")
        XCTAssertEqual(SmallFloatFormat.e4m3fn.rounded(-5), -5)
    }

    func testOverflowSaturatesOrBecomesNaNOrInfinityAsTheFormatHasThem() {
        XCTAssertEqual(SmallFloatFormat.e4m3fn.rounded(1000), 448)
        XCTAssertEqual(SmallFloatFormat.e4m3fn.rounded(.infinity), 448)
        XCTAssertEqual(SmallFloatFormat.e4m3fn.rounded(464, saturating: false), 448, "464 is the tie just past 448, whose code is even")
        XCTAssertTrue(SmallFloatFormat.e4m3fn.rounded(470, saturating: false).isNaN)
        XCTAssertEqual(SmallFloatFormat.e5m2.rounded(-1e6, saturating: false), -.infinity)
        XCTAssertTrue(SmallFloatFormat.e4m3fnuz.rounded(1e6, saturating: false).isNaN)
        XCTAssertEqual(SmallFloatFormat.e2m1.rounded(100, saturating: false), 6, "float4 has no NaN: it always saturates")
    }

    func testSpecialValues() {
        XCTAssertEqual(SmallFloatFormat.e4m3fnuz.rounded(-0.0).sign, .plus, "the uz formats have no negative zero")
        XCTAssertEqual(SmallFloatFormat.e2m1.rounded(.nan), 0)
        XCTAssertTrue(SmallFloatFormat.e5m2.rounded(.nan).isNaN)
        XCTAssertEqual(SmallFloatFormat.e8m0.rounded(3), 4, "e8m0 rounds its exponent up by default")
        XCTAssertEqual(SmallFloatFormat.e8m0.rounded(3, e8m0Rounding: .down), 2)
    }

    func testEveryCodeRoundTripsThroughItsValue() {
        for format in SmallFloatFormat.allCases {
            for code in 0..<(1 << format.bitWidth) {
                let value = format.value(ofCode: UInt8(code))
                guard !value.isNaN else { continue }
                XCTAssertEqual(format.rounded(value, saturating: false, e8m0Rounding: .down), value, "\(format) code \(code)")
                XCTAssertEqual(format.value(ofCode: format.code(of: value)), value, "\(format) code \(code)")
            }
        }
    }

    func testTwoBitIntegersPackFourToAByte() throws {
        let tensor = try Tensor(shape: [5], int64s: [1, -2, 0, -1, 1]).converted(to: .int2)
        let proto = tensor.onnxTensor(named: "x")
        XCTAssertEqual(proto.rawData.count, 2)
        XCTAssertEqual(try Tensor(onnxTensor: proto), tensor)
    }
}

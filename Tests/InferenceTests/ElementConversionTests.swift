@testable import Inference
import XCTest

/// Conversions between element types keep values, not bits.
final class ElementConversionTests: XCTestCase {
    func testWideUnsignedIntegersConvertByValue() throws {
        let uint32 = try Tensor(shape: [3], int64s: [4, 5, 4_294_967_295]).converted(to: .uint32)
        XCTAssertEqual(uint32.floats, [4, 5, 4_294_967_295])
        let uint64 = try Tensor(shape: [2], int64s: [6, 1 << 40]).converted(to: .uint64)
        XCTAssertEqual(try uint64.converted(to: .float64).storage.doubles, [6, 1_099_511_627_776])
    }

    func testStringsParseAndPrintAsCastDoes() throws {
        let parsed = try Tensor(shape: [3], strings: ["1.5", " -2", "x"]).converted(to: .float32).floats
        XCTAssertEqual(Array(parsed.prefix(2)), [1.5, -2])
        XCTAssertTrue(parsed[2].isNaN)
        XCTAssertEqual(try Tensor(shape: [3], floats: [0.5, .infinity, .nan]).converted(to: .string).strings, ["0.5", "INF", "NaN"])
    }
}

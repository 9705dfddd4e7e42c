import Foundation
import XCTest

/// Keeping freed memory in the heap is the programs' choice, not the engine's: `quantfleet` links
/// CHeapRetention and reports the setting applied.
final class HeapRetentionTests: XCTestCase {
    func testTheCLIOptsInAndSaysSo() throws {
        let (status, output) = try SystemTestSupport.run(
            SystemTestSupport.executables.appendingPathComponent("quantfleet"),
            ["bench", SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx").path, "--iterations", "2", "--warmup", "0", "--json"])
        XCTAssertEqual(status, 0, output)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], output)
        XCTAssertEqual(report["heap_retention"] as? Bool, true, output)
    }
}

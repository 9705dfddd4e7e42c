import Foundation
import NodeConformance
import XCTest

extension XCTestCase {
    /// Runs a model suite in the node-test layout whose expected outputs are onnxruntime's, and fails
    /// when it does not hold `size` models (one was lost) or when any model's outputs differ.
    func assertEveryModelMatchesOnnxruntime(in root: URL, size: Int, name: String) throws {
        let suite = try NodeTestSuite(root: root)
        XCTAssertEqual(suite.testDirectories.count, size)
        let report = ConformanceReport(results: suite.run(), expected: ExpectedFailures(), ranWholeSuite: true)
        print("\(name): \(report.summary)")
        XCTAssert(report.unexpectedFailures.isEmpty,
                  "\(report.unexpectedFailures.count) model(s) differ from onnxruntime:\n" + report.unexpectedFailures.joined(separator: "\n"))
    }
}

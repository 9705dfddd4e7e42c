import Foundation
import NodeConformance
import XCTest

/// Every ONNX backend node test of the onnx 1.22.0 wheel runs through the engine, none skipped: each
/// must pass unless Tools/node-tests/expected-failures.txt lists it with a reason, and a listed test
/// that passes fails the run too, so the list stays honest and a lost operator shows as a failure.
final class ONNXNodeConformanceTests: XCTestCase {
    /// onnx 1.22.0's node tests; another count means another onnx, whose list must be reviewed.
    static let suiteSize = 1_765
    /// Tests whose output shapes the operators' shape rules state at load: fewer means a rule was lost.
    static let shapeRuleChecks = 895

    func testEveryBackendNodeTestPassesExceptTheListedOnes() throws {
        let suite = try NodeTestSuite.installed()
        XCTAssertEqual(suite.testDirectories.count, Self.suiteSize, "the installed onnx is not 1.22.0")
        let expected = try ExpectedFailures(contentsOf: TestSupport.packageRoot.appendingPathComponent("Tools/node-tests/expected-failures.txt"))
        let report = ConformanceReport(results: suite.run(), expected: expected, ranWholeSuite: true)
        print("ONNX node tests: \(report.summary)")
        let onnxruntime = try ONNXRuntimeCount.measure(
            suite: suite, script: TestSupport.packageRoot.appendingPathComponent("Tools/node-tests/onnxruntime_node_tests.py"))
        print("onnxruntime \(onnxruntime.version) on the same suite: \(onnxruntime.loaded) load, \(onnxruntime.passed) pass")
        XCTAssertEqual(report.total, Self.suiteSize)
        XCTAssert(report.unexpectedFailures.isEmpty,
                  "\(report.unexpectedFailures.count) node test(s) failed:\n" + report.unexpectedFailures.joined(separator: "\n"))
        XCTAssert(report.unexpectedPasses.isEmpty,
                  "listed as expected failures but passed (remove them from the list): \(report.unexpectedPasses.joined(separator: ", "))")
        XCTAssertGreaterThanOrEqual(report.shapeRuleChecks, Self.shapeRuleChecks, "a shape rule was lost")
        XCTAssert(report.unknownListed.isEmpty, "listed but not in the suite: \(report.unknownListed.joined(separator: ", "))")
    }
}

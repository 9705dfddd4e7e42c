import Foundation
import NodeConformance

// Runs ONNX's backend node tests through the engine, like onnxruntime's onnx_test_runner:
//   onnx-node-tests [PREFIX] [--failures] [--update-expected-failures] [--onnxruntime] [--suite DIR]
// PREFIX picks tests by name; --failures prints each failure's reason; --update-expected-failures
// rewrites Tools/node-tests/expected-failures.txt from the whole suite's results; --onnxruntime
// also counts onnxruntime on the same suite. --suite runs another directory of tests in the same
// layout (the classic-ML models of Tools/make-classic-ml-fixtures.py), where every test must pass.
let arguments = CommandLine.arguments.dropFirst()
let suiteDirectory = arguments.firstIndex(of: "--suite").flatMap { arguments.index(after: $0) < arguments.endIndex ? arguments[arguments.index(after: $0)] : nil }
let prefix = arguments.first { !$0.hasPrefix("--") && $0 != suiteDirectory }
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let listFile = repository.appendingPathComponent("Tools/node-tests/expected-failures.txt")

do {
    let suite = try suiteDirectory.map { try NodeTestSuite(root: URL(fileURLWithPath: $0)) } ?? NodeTestSuite.installed()
    let expected = suiteDirectory == nil ? try ExpectedFailures(contentsOf: listFile) : ExpectedFailures()
    let results = suite.run(matching: prefix) { result in
        if arguments.contains("--failures"), let failure = result.failure { print("\(result.name): \(failure)") }
    }
    let report = ConformanceReport(results: results, expected: expected, ranWholeSuite: prefix == nil)
    for failure in report.unexpectedFailures { print("UNEXPECTED FAILURE \(failure)") }
    for name in report.unexpectedPasses { print("UNEXPECTED PASS \(name)") }
    print("ONNX node tests: \(report.summary)")
    if arguments.contains("--onnxruntime") {
        let ort = try ONNXRuntimeCount.measure(suite: suite, script: repository.appendingPathComponent("Tools/node-tests/onnxruntime_node_tests.py"))
        print("onnxruntime \(ort.version): \(ort.total) tests, \(ort.loaded) load, \(ort.passed) pass")
    }
    if arguments.contains("--update-expected-failures") {
        guard prefix == nil, suiteDirectory == nil else { throw NodeTestError("--update-expected-failures needs the whole onnx suite (no PREFIX, no --suite)") }
        try expected.updated(with: results).text.write(to: listFile, atomically: true, encoding: .utf8)
        print("wrote \(listFile.path)")
    }
} catch {
    FileHandle.standardError.write(Data("onnx-node-tests: \(error)\n".utf8))
    exit(1)
}

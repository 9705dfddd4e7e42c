import Foundation
@testable import Inference
import ONNXRuntimeOracle
import XCTest

/// ONNX's own backend node tests (shipped in the onnx 1.22.0 wheel) run through the engine: every
/// test whose operators the engine supports must pass, unless Tools/node-tests/expected-failures.txt
/// lists it with a reason; a listed test that passes fails the run too, so the list stays honest.
final class ONNXNodeConformanceTests: XCTestCase {
    func testBackendNodeTestsPassExceptTheListedOnes() throws {
        let root = try NodeTestSuite.locate()
        let expectedFailures = try NodeTestSuite.expectedFailures()
        var outcome = NodeTestSuite.Outcome()
        for directory in try NodeTestSuite.testDirectories(in: root) {
            let name = directory.lastPathComponent
            let test = try NodeTestCase(directory: directory)
            guard test.usesOnlySupportedOperators else {
                outcome.skipped += 1
                continue
            }
            let failure = test.failure()
            switch (failure, expectedFailures[name]) {
            case (nil, nil): outcome.passed.append(name)
            case (nil, _?): outcome.unexpectedPasses.append(name)
            case (let reason?, nil): outcome.unexpectedFailures.append("\(name): \(reason)")
            case (_?, _?): outcome.expectedFailures.append(name)
            }
        }
        print("ONNX node tests: \(outcome.summary)")
        XCTAssertGreaterThan(outcome.passed.count, 0, "no node test ran; is \(root.path) complete?")
        XCTAssert(outcome.unexpectedFailures.isEmpty,
                  "\(outcome.unexpectedFailures.count) node test(s) failed:\n" + outcome.unexpectedFailures.joined(separator: "\n"))
        XCTAssert(outcome.unexpectedPasses.isEmpty,
                  "listed as expected failures but passed (remove them from the list): \(outcome.unexpectedPasses.joined(separator: ", "))")
    }
}

/// Where the node tests are and which are expected to fail.
enum NodeTestSuite {
    static let expectedFailuresFile = TestSupport.packageRoot.appendingPathComponent("Tools/node-tests/expected-failures.txt")

    struct Outcome {
        var passed: [String] = []
        var expectedFailures: [String] = []
        var unexpectedFailures: [String] = []
        var unexpectedPasses: [String] = []
        var skipped = 0

        var summary: String {
            let run = passed.count + expectedFailures.count + unexpectedFailures.count + unexpectedPasses.count
            return "\(run) run, \(passed.count + unexpectedPasses.count) passed, \(expectedFailures.count) expected failures, "
                + "\(unexpectedFailures.count) unexpected failures, \(skipped) skipped (operators not supported)"
        }
    }

    /// onnx/backend/test/data/node of the installed onnx wheel; fails (never skips) without it.
    static func locate() throws -> URL {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import onnx, os; print(os.path.dirname(onnx.__file__))"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let package = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ONNXRuntimeOracle.Failure(message: "python3 cannot import onnx; run Tools/install-dependencies.sh --test-oracles")
        }
        let root = URL(fileURLWithPath: package).appendingPathComponent("backend/test/data/node")
        guard FileManager.default.fileExists(atPath: root.path) else {
            throw ONNXRuntimeOracle.Failure(message: "\(root.path) is missing: the node tests ship in onnx==1.22.0 only")
        }
        return root
    }

    static func testDirectories(in root: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("test_") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Test name -> reason, from lines "test_name  reason" ('#' starts a comment).
    static func expectedFailures() throws -> [String: String] {
        let text = try String(contentsOf: expectedFailuresFile, encoding: .utf8)
        var failures: [String: String] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.prefix { $0 != "#" }.trimmingCharacters(in: .whitespaces)
            if content.isEmpty { continue }
            let parts = content.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, !parts[1].trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ONNXRuntimeOracle.Failure(message: "\(expectedFailuresFile.lastPathComponent):\(number + 1): expected 'test_name reason'")
            }
            failures[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return failures
    }
}

/// One node test: model.onnx and its test_data_set_* directories of input_N.pb / output_N.pb.
struct NodeTestCase {
    let directory: URL
    let model: Onnx_ModelProto

    init(directory: URL) throws {
        self.directory = directory
        model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: directory.appendingPathComponent("model.onnx")))
    }

    var usesOnlySupportedOperators: Bool {
        model.graph.node.allSatisfy {
            OperatorRegistry.supports(opType: $0.opType, domain: ONNXModelDecoder.normalizedDomain($0.domain))
        }
    }

    /// Why the test fails, or nil when every data set's outputs match.
    func failure() -> String? {
        do {
            let session = try InferenceSession(modelData: model.serializedBytes())
            let dataSets = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.lastPathComponent.hasPrefix("test_data_set_") }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
            for dataSet in dataSets {
                var feeds: [String: Tensor] = [:]
                for (index, input) in session.inputs.enumerated() {
                    feeds[input.name] = try Self.tensor(dataSet.appendingPathComponent("input_\(index).pb"))
                }
                let results = try session.run(feeds)
                for (index, output) in session.outputs.enumerated() {
                    let expected = try Self.tensor(dataSet.appendingPathComponent("output_\(index).pb"))
                    guard let actual = results[output.name] else { return "output '\(output.name)' missing" }
                    if let mismatch = Self.mismatch(actual, expected) {
                        return "\(dataSet.lastPathComponent) output '\(output.name)': \(mismatch)"
                    }
                }
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    private static func tensor(_ file: URL) throws -> Tensor {
        try Tensor(onnxTensor: Onnx_TensorProto(serializedBytes: Data(contentsOf: file)))
    }

    /// ONNX's backend tolerance (numpy assert_allclose, rtol 1e-3, atol 1e-7); NaN matches NaN.
    static func mismatch(_ actual: Tensor, _ expected: Tensor) -> String? {
        guard actual.elementType == expected.elementType else {
            return "type \(actual.elementType.rawValue), expected \(expected.elementType.rawValue)"
        }
        guard actual.shape == expected.shape else { return "shape \(actual.shape), expected \(expected.shape)" }
        if !expected.elementType.isFloatingPoint {
            return actual == expected ? nil : "values differ: \(actual.int64s.prefix(8)) vs \(expected.int64s.prefix(8))"
        }
        for (index, (a, e)) in zip(actual.floats, expected.floats).enumerated() {
            let close = (a.isNaN && e.isNaN) || a == e || abs(a - e) <= 1e-7 + 1e-3 * abs(e)
            if !close { return "element \(index) is \(a), expected \(e)" }
        }
        return nil
    }
}

import StrictYAML
import XCTest

@testable import ShadowEval

/// The error loading `yaml` throws, nil when it loads.
func policyFileError(loading yaml: String) -> PolicyFileError? {
    do {
        _ = try Policy(yaml: yaml)
        return nil
    } catch {
        return error
    }
}

final class PolicyFileTests: XCTestCase {
    private let valid = """
        # a comment
        version: "v1"   # trailing comment
        ship-below: 0.01
        stay-fp16-above: 0.03
        confidence: 0.95
        minimum-samples: 500
        minimum-labelled: 200
        """

    func testLoadsFlatPolicy() throws {
        XCTAssertEqual(
            try Policy(yaml: valid),
            Policy(version: "v1", shipBelow: 0.01, stayFP16Above: 0.03, confidence: 0.95,
                   minimumSamples: 500, minimumLabelled: 200))
    }

    func testInvalidValueNamesKeyAndLine() {
        let failure = policyFileError(loading: valid.replacingOccurrences(of: "ship-below: 0.01", with: "ship-below: 2"))
        XCTAssertEqual(failure?.line, 3)
        XCTAssertEqual(failure?.key, "ship-below")
        XCTAssertTrue(failure?.description.hasPrefix("line 3: ship-below is 2.0; it is a fraction") ?? false,
                      failure?.description ?? "no error")
    }

    func testWrongTypeNamesKeyAndLine() {
        let failure = policyFileError(loading: valid.replacingOccurrences(of: "minimum-samples: 500", with: "minimum-samples: many"))
        XCTAssertEqual(failure, PolicyFileError(line: 6, key: "minimum-samples", reason: "must be a whole number"))
    }

    func testMissingKeyIsNamed() {
        let failure = policyFileError(loading: valid.replacingOccurrences(of: "confidence: 0.95\n", with: ""))
        XCTAssertEqual(failure?.key, "confidence")
        XCTAssertEqual(failure?.reason, "is missing")
    }

    func testSyntaxErrorsNameTheLine() {
        XCTAssertEqual(policyFileError(loading: valid + "\nship-below: 0.02")?.line, 8)
        XCTAssertEqual(policyFileError(loading: valid + "\n  stray: 1")?.line, 8)
        XCTAssertEqual(policyFileError(loading: valid + "\nno colon here")?.line, 8)
        XCTAssertEqual(policyFileError(loading: valid + "\nguards: &anchor 1")?.line, 8)
        XCTAssertEqual(policyFileError(loading: "")?.line, nil)
    }

    /// A misspelt optional key would silently keep its default: it is refused, with its line.
    func testAMisspeltKeyIsRefusedWithItsLine() {
        let failure = policyFileError(loading: valid + "\nguards:\n  max-latency-ratoi: 1.2")
        XCTAssertEqual(failure?.line, 9)
        XCTAssertEqual(failure?.key, "guards.max-latency-ratoi")
        XCTAssertEqual(failure?.reason, "is not a known key; did you mean max-latency-ratio?")
    }

    func testEvaluationCadenceLoads() throws {
        let policy = try Policy(yaml: valid + "\nevaluation:\n  every-windows: 100\n  every-ms: 2000")
        XCTAssertEqual(policy.evaluation, EvaluationCadence(everyWindows: 100, everyMillis: 2_000))
        XCTAssertNil(try Policy(yaml: valid).evaluation, "without the section every window is evaluated")
    }

    func testEvaluationCadenceIsCheckedStrictly() {
        let refusals = [
            ("  every-windows: 0\n  every-ms: 2000", "line 9: evaluation.every-windows is 0; it must be at least 1"),
            ("  every-windows: 10\n  every-ms: -5", "line 10: evaluation.every-ms is -5; it must be at least 1"),
            ("  every-windows: 10\n  every-msec: 5", "line 10: evaluation.every-msec is not a known key; did you mean every-ms?"),
            ("  every-windows: 10\n  every-ms: 5\n  jitter: 1", "line 11: evaluation.jitter is not a known key; known here: every-ms, every-windows"),
            ("  every-windows: ten\n  every-ms: 5", "line 9: evaluation.every-windows must be a whole number"),
        ]
        for (section, expected) in refusals {
            XCTAssertEqual(policyFileError(loading: valid + "\nevaluation:\n" + section)?.description, expected)
        }
    }
}

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
}

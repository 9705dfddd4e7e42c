import Foundation
import XCTest

@testable import ShadowEval

final class PolicyTests: XCTestCase {
    private func decodePolicy(_ json: String) throws -> Policy {
        try JSONDecoder().decode(Policy.self, from: Data(json.utf8))
    }

    func testDecodesKebabCaseKeys() throws {
        let policy = try decodePolicy(
            #"{"version": "v1", "ship-below": 0.01, "stay-fp16-above": 0.03, "confidence": 0.95,"#
                + #" "minimum-samples": 500, "minimum-labelled": 200}"#)
        XCTAssertEqual(
            policy,
            Policy(version: "v1", shipBelow: 0.01, stayFP16Above: 0.03, confidence: 0.95,
                   minimumSamples: 500, minimumLabelled: 200))
    }

    func testDecodingRejectsNonsense() {
        let json =
            #"{"version": "v1", "ship-below": 0.05, "stay-fp16-above": 0.03, "confidence": 0.95,"#
            + #" "minimum-samples": 500, "minimum-labelled": 200}"#
        XCTAssertThrowsError(try decodePolicy(json)) { error in
            XCTAssertEqual(error as? PolicyError, .thresholdsOutOfOrder(shipBelow: 0.05, stayFP16Above: 0.03))
        }
    }

    func testValidateNamesTheOffendingValue() {
        let valid = Policy(version: "v1", shipBelow: 0.01, stayFP16Above: 0.03, confidence: 0.95,
                           minimumSamples: 500, minimumLabelled: 500)
        XCTAssertNoThrow(try valid.validate())

        let cases: [(WritableKeyPath<Policy, Double>, Double, PolicyError)] = [
            (\.shipBelow, 1, .thresholdOutOfRange(name: "ship-below", value: 1)),
            (\.stayFP16Above, -0.1, .thresholdOutOfRange(name: "stay-fp16-above", value: -0.1)),
            (\.confidence, 95, .confidenceOutOfRange(95)),
        ]
        for (keyPath, value, expected) in cases {
            var policy = valid
            policy[keyPath: keyPath] = value
            XCTAssertThrowsError(try policy.validate()) { XCTAssertEqual($0 as? PolicyError, expected) }
        }
        var unversioned = valid
        unversioned.version = " "
        XCTAssertThrowsError(try unversioned.validate()) { XCTAssertEqual($0 as? PolicyError, .emptyVersion) }
        var noMinimum = valid
        noMinimum.minimumLabelled = 0
        XCTAssertThrowsError(try noMinimum.validate()) {
            XCTAssertEqual("\($0)", "policy: minimum-labelled is 0; it must be at least 1")
        }
    }

    /// The shipped config must load (loading validates) and keep the product's 1 % / 3 % bands;
    /// the minimums are tuning and are not pinned here.
    func testShippedPolicyFileLoads() throws {
        let configURL = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Config/policy.yaml")
        let policy = try Policy(yaml: String(contentsOf: configURL, encoding: .utf8))
        XCTAssertFalse(policy.version.isEmpty)
        XCTAssertEqual(policy.shipBelow, 0.01)
        XCTAssertEqual(policy.stayFP16Above, 0.03)
        XCTAssertEqual(policy.confidence, 0.95)
    }
}

import Crypto
import DaemonSupport
import FleetProtocol
import Foundation
import XCTest

@testable import Agent

/// Anti-rollback per model name: each name's assignment keeps its version while its mode stays, so
/// one mark for every name would refuse an older name's renewal once a newer name had raised it.
final class SignedAssignmentGateTests: XCTestCase {
    private let key = Curve25519.Signing.PrivateKey()
    private let now: UInt64 = 1_800_000_000_000
    private var dataDirectory: URL!

    override func setUpWithError() throws {
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("gate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dataDirectory)
    }

    private func gate(floor: UInt64 = 0) throws -> SignedAssignmentGate {
        SignedAssignmentGate(
            keys: TrustedSigningKeys([key.publicKey]),
            acceptedVersions: try AcceptedVersions(directory: dataDirectory.appendingPathComponent("versions").path, floor: floor))
    }

    private func signed(_ modelName: String, id: String, version: UInt64) throws -> Assignment {
        let assignment = Assignment.with {
            $0.assignmentID = id
            $0.modelName = modelName
            $0.reference.sha256 = String(repeating: "ab", count: 32)
            $0.candidate.sha256 = String(repeating: "cd", count: 32)
            $0.mode = .shadow
        }
        return try AssignmentSigning.sign(assignment, version: version, expiresAtMillis: now + 60_000, explicitRollback: false, with: key)
    }

    func testEachModelNameKeepsItsOwnHighestVersionAcrossARestart() throws {
        let first = try gate()
        XCTAssertEqual(try first.admit(signed("detector", id: "a-1", version: 5), nowMillis: now).version, 5)
        XCTAssertEqual(try first.admit(signed("recogniser", id: "a-2", version: 7), nowMillis: now).version, 7)
        // The detector's renewal keeps version 5: accepted, though the recogniser's is 7.
        XCTAssertEqual(try first.admit(signed("detector", id: "a-1", version: 5), nowMillis: now).version, 5)

        let restarted = try gate()
        XCTAssertThrowsError(try restarted.admit(signed("recogniser", id: "a-0", version: 6), nowMillis: now)) {
            XCTAssertEqual($0 as? AssignmentSigning.Refusal, .olderVersion(assignmentID: "a-0", version: 6, highestAccepted: 7))
        }
        XCTAssertThrowsError(try restarted.admit(signed("detector", id: "a-0", version: 4), nowMillis: now)) {
            XCTAssertEqual($0 as? AssignmentSigning.Refusal, .olderVersion(assignmentID: "a-0", version: 4, highestAccepted: 5))
        }
    }

    func testTheMarkOfAnAgentThatServedOneModelIsEveryNamesFloor() throws {
        let upgraded = try gate(floor: 9)
        XCTAssertThrowsError(try upgraded.admit(signed("detector", id: "a-1", version: 8), nowMillis: now)) {
            XCTAssertEqual($0 as? AssignmentSigning.Refusal, .olderVersion(assignmentID: "a-1", version: 8, highestAccepted: 9))
        }
        XCTAssertEqual(try upgraded.admit(signed("detector", id: "a-2", version: 9), nowMillis: now).version, 9)
    }

    func testEveryModelNameIsAFileNameInsideTheFolder() {
        XCTAssertEqual(AcceptedVersions.fileName(for: "fashion-mnist_mlp2"), "model-fashion-mnist_mlp2")
        XCTAssertEqual(AcceptedVersions.fileName(for: "../x"), "model-%2E%2E%2Fx")
        XCTAssertEqual(AcceptedVersions.fileName(for: "ocr.v2 é"), "model-ocr%2Ev2%20%C3%A9")
        XCTAssertNotEqual(AcceptedVersions.fileName(for: "a.b"), AcceptedVersions.fileName(for: "a%2Eb"))
    }

    func testExpiredMetadataIsReportedOncePerModelName() throws {
        let gate = try gate()
        for (name, id) in [("detector", "a-1"), ("recogniser", "a-2")] {
            gate.serves(try gate.admit(signed(name, id: id, version: 3), nowMillis: now))
        }
        XCTAssertEqual(gate.expiredWhileServing(nowMillis: now).count, 0)
        XCTAssertEqual(gate.expiredWhileServing(nowMillis: now + 60_000).map(\.assignmentID), ["a-1", "a-2"])
        XCTAssertEqual(gate.expiredWhileServing(nowMillis: now + 120_000).count, 0, "once per expiry")
    }
}

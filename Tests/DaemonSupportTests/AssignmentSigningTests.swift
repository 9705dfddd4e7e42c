import Crypto
import FleetProtocol
import Foundation
import XCTest

@testable import DaemonSupport

/// TUF's rules for signed assignments, message by message: each test signs what the coordinator
/// would have sent, keeps the bytes as an attacker who captured them would, and checks the refusal.
final class AssignmentSigningTests: XCTestCase {
    private let key = Curve25519.Signing.PrivateKey()
    private let now: UInt64 = 1_800_000_000_000

    private func assignment(_ id: String = "a-1", mode: ServingMode = .shadow) -> Assignment {
        .with {
            $0.assignmentID = id
            $0.modelName = "fashion-mnist-mlp"
            $0.reference.sha256 = String(repeating: "ab", count: 32)
            $0.candidate.sha256 = String(repeating: "cd", count: 32)
            $0.samplingRate = 1
            $0.windowSize = 10
            $0.mode = mode
        }
    }

    /// What the wire carries: the signed assignment, serialized and read back.
    private func captured(
        _ assignment: Assignment, version: UInt64, expiresIn millis: Int64 = 60_000, explicitRollback: Bool = false,
        by signer: Curve25519.Signing.PrivateKey? = nil
    ) throws -> Assignment {
        let signed = try AssignmentSigning.sign(
            assignment, version: version, expiresAtMillis: UInt64(Int64(now) + millis), explicitRollback: explicitRollback,
            with: signer ?? key)
        return try Assignment(serializedBytes: try signed.serializedBytes() as [UInt8])
    }

    private func admit(_ assignment: Assignment, highestAccepted: UInt64, trusting keys: [Curve25519.Signing.PublicKey]? = nil) throws -> Assignment {
        let metadata = try AssignmentSigning.verify(assignment, trusting: TrustedSigningKeys(keys ?? [key.publicKey]))
        try AssignmentSigning.checkFreshness(metadata, highestAccepted: highestAccepted, nowMillis: now)
        return metadata
    }

    private func assertRefused(
        _ assignment: Assignment, highestAccepted: UInt64, trusting keys: [Curve25519.Signing.PublicKey]? = nil,
        _ expected: AssignmentSigning.Refusal, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try admit(assignment, highestAccepted: highestAccepted, trusting: keys), file: file, line: line) {
            XCTAssertEqual($0 as? AssignmentSigning.Refusal, expected, file: file, line: line)
        }
    }

    func testASignedAssignmentIsAcceptedAndActedOnFromItsSignedBytes() throws {
        var tampered = try captured(assignment(), version: 7)
        tampered.samplingRate = 0.01  // the unsigned copy outside, edited in transit
        let metadata = try admit(tampered, highestAccepted: 6)
        XCTAssertEqual(metadata.samplingRate, 1, "the signed bytes win over the copy around them")
        XCTAssertEqual(metadata.version, 7)
        XCTAssertFalse(metadata.hasSigned)
    }

    func testAReplayedOlderVersionIsRefused() throws {
        let old = try captured(assignment("a-1"), version: 3)
        _ = try admit(try captured(assignment("a-1", mode: .promoted), version: 5), highestAccepted: 3)
        assertRefused(old, highestAccepted: 5, .olderVersion(assignmentID: "a-1", version: 3, highestAccepted: 5))
        XCTAssertTrue(
            "\(AssignmentSigning.Refusal.olderVersion(assignmentID: "a-1", version: 3, highestAccepted: 5))"
                .contains("version 3, below version 5"))
    }

    func testTheSameVersionAgainIsARenewal() throws {
        let first = try admit(try captured(assignment(), version: 5), highestAccepted: 4)
        let renewed = try admit(try captured(assignment(), version: 5, expiresIn: 120_000), highestAccepted: 5)
        XCTAssertNotEqual(renewed.expiresAtMs, first.expiresAtMs)
        XCTAssertEqual(renewed.withoutExpiry, first.withoutExpiry, "a renewal asks for nothing new")
    }

    func testAnExplicitRollbackMayCarryALowerVersion() throws {
        let rollback = try captured(assignment(mode: .rolledBack), version: 2, explicitRollback: true)
        XCTAssertEqual(try admit(rollback, highestAccepted: 9).mode, .rolledBack)
    }

    func testExpiredMetadataIsRefusedWhateverItsVersion() throws {
        let expired = try captured(assignment(), version: 12, expiresIn: -1)
        assertRefused(
            expired, highestAccepted: 0, .expired(assignmentID: "a-1", version: 12, expiredAtMillis: now - 1, nowMillis: now))
        let atExpiry = try captured(assignment(), version: 12, expiresIn: 0)
        assertRefused(atExpiry, highestAccepted: 0, .expired(assignmentID: "a-1", version: 12, expiredAtMillis: now, nowMillis: now))
    }

    func testAnyEditOfTheSignedBytesIsRefused() throws {
        var edited = try captured(assignment(), version: 4)
        edited.signed.assignment[edited.signed.assignment.count / 2] ^= 1
        assertRefused(edited, highestAccepted: 0, .badSignature(assignmentID: "a-1"))
        var flipped = try captured(assignment(), version: 4)
        flipped.signed.signature[0] ^= 1
        assertRefused(flipped, highestAccepted: 0, .badSignature(assignmentID: "a-1"))
        var stripped = try captured(assignment(), version: 4)
        stripped.clearSigned()
        assertRefused(stripped, highestAccepted: 0, .unsigned(assignmentID: "a-1"))
    }

    func testMetadataWithoutVersionOrExpiryIsRefused() throws {
        var metadata = assignment()
        metadata.version = 3
        let bytes = try metadata.serializedData()
        var unexpiring = assignment()
        unexpiring.signed = try .with {
            $0.assignment = bytes
            $0.signature = try key.signature(for: bytes)
            $0.keyID = TrustedSigningKeys.keyID(of: key.publicKey)
        }
        assertRefused(unexpiring, highestAccepted: 0, .missingFreshness(assignmentID: "a-1"))
    }

    /// Rotation: agents trusting the old and the new key take both; a key they do not trust is
    /// named in the refusal, with the ones they do.
    func testKeysAreNamedByIDSoTheyRotateWithoutAnOutage() throws {
        let next = Curve25519.Signing.PrivateKey()
        let both = [key.publicKey, next.publicKey]
        XCTAssertEqual(try admit(try captured(assignment(), version: 1), highestAccepted: 0, trusting: both).version, 1)
        XCTAssertEqual(try admit(try captured(assignment(), version: 2, by: next), highestAccepted: 1, trusting: both).version, 2)

        let unknown = try captured(assignment(), version: 3, by: next)
        let oldID = TrustedSigningKeys.keyID(of: key.publicKey)
        let reason = "it is signed by key \(TrustedSigningKeys.keyID(of: next.publicKey)), which this agent does not trust (trusted: \(oldID))"
        assertRefused(unknown, highestAccepted: 0, .untrustedKey(assignmentID: "a-1", reason: reason))
        XCTAssertEqual(oldID.count, 16)
        XCTAssertNotEqual(oldID, TrustedSigningKeys.keyID(of: next.publicKey))
    }
}

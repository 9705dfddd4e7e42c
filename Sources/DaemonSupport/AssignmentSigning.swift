import Crypto
import FleetProtocol
import Foundation

/// Signed assignments, with TUF's freshness rules: each carries a version (from the coordinator's one
/// ledger counter, so it only grows for every agent) and an expiry. An agent acts on the signed bytes
/// only, refuses metadata that has expired, and refuses a version below the highest it has accepted
/// unless the coordinator signed it as an explicit rollback. So a captured assignment replayed later
/// cannot take an agent back to what it served before.
public enum AssignmentSigning {
    public enum Refusal: Error, CustomStringConvertible, Equatable {
        case unsigned(assignmentID: String)
        case badSignature(assignmentID: String)
        case untrustedKey(assignmentID: String, reason: String)
        case malformed(assignmentID: String)
        case missingFreshness(assignmentID: String)
        case expired(assignmentID: String, version: UInt64, expiredAtMillis: UInt64, nowMillis: UInt64)
        case olderVersion(assignmentID: String, version: UInt64, highestAccepted: UInt64)

        public var description: String {
            switch self {
            case .unsigned(let id):
                "assignment \(id) is not signed, and this agent trusts signing keys, so it requires signed assignments"
            case .badSignature(let id): "the signature of assignment \(id) does not verify"
            case .untrustedKey(let id, let reason): "assignment \(id) is refused: \(reason)"
            case .malformed(let id): "the signed bytes of assignment \(id) are not an Assignment"
            case .missingFreshness(let id): "signed assignment \(id) carries no version or no expiry"
            case .expired(let id, let version, let expiredAt, let now):
                "assignment \(id) version \(version) expired at \(Self.time(expiredAt)) (now \(Self.time(now))): a replay, "
                    + "or a coordinator that did not renew it"
            case .olderVersion(let id, let version, let highest):
                "assignment \(id) has version \(version), below version \(highest) this agent has accepted, and is not "
                    + "signed as an explicit rollback: a replay of old metadata"
            }
        }

        /// The version the refused metadata claims, for the report (0 when it cannot be read).
        public var version: UInt64 {
            switch self {
            case .expired(_, let version, _, _), .olderVersion(_, let version, _): version
            default: 0
            }
        }

        private static func time(_ millis: UInt64) -> String {
            Date(timeIntervalSince1970: Double(millis) / 1000).formatted(.iso8601)
        }
    }

    /// `assignment` with its version, expiry and rollback mark set, and signed: the signed copy inside
    /// is what agents with keys act on; the fields outside are for agents without keys.
    public static func sign(
        _ assignment: Assignment, version: UInt64, expiresAtMillis: UInt64, explicitRollback: Bool,
        with key: Curve25519.Signing.PrivateKey
    ) throws -> Assignment {
        var metadata = assignment
        metadata.clearSigned()
        metadata.version = version
        metadata.expiresAtMs = expiresAtMillis
        metadata.explicitRollback = explicitRollback
        let bytes = try metadata.serializedData()
        var signed = metadata
        signed.signed = try SignedAssignment.with {
            $0.assignment = bytes
            $0.signature = try key.signature(for: bytes)
            $0.keyID = TrustedSigningKeys.keyID(of: key.publicKey)
        }
        return signed
    }

    /// The signed assignment inside `assignment`, if a trusted key signed it and it carries a
    /// version and an expiry. Freshness is `checkFreshness`'s.
    public static func verify(_ assignment: Assignment, trusting keys: TrustedSigningKeys) throws(Refusal) -> Assignment {
        let id = assignment.assignmentID
        guard assignment.hasSigned else { throw .unsigned(assignmentID: id) }
        let verified: Bool
        do {
            verified = try keys.isValidSignature(assignment.signed.signature, of: assignment.signed.assignment, keyID: assignment.signed.keyID)
        } catch {
            throw .untrustedKey(assignmentID: id, reason: "\(error)")
        }
        guard verified else { throw .badSignature(assignmentID: id) }
        guard let metadata = try? Assignment(serializedBytes: assignment.signed.assignment), !metadata.hasSigned else {
            throw .malformed(assignmentID: id)
        }
        guard metadata.hasVersion, metadata.hasExpiresAtMs else { throw .missingFreshness(assignmentID: metadata.assignmentID) }
        return metadata
    }

    /// TUF's rules for a verified assignment: not expired at `nowMillis`, and not below the highest
    /// version accepted unless it is an explicit rollback. The same version again is a renewal.
    public static func checkFreshness(_ metadata: Assignment, highestAccepted: UInt64, nowMillis: UInt64) throws(Refusal) {
        guard nowMillis < metadata.expiresAtMs else {
            throw .expired(
                assignmentID: metadata.assignmentID, version: metadata.version, expiredAtMillis: metadata.expiresAtMs,
                nowMillis: nowMillis)
        }
        guard metadata.version >= highestAccepted || metadata.explicitRollback else {
            throw .olderVersion(assignmentID: metadata.assignmentID, version: metadata.version, highestAccepted: highestAccepted)
        }
    }
}

extension Assignment {
    /// What the assignment asks of the agent, without its expiry: a renewal of the same version
    /// compares equal to the assignment it renews.
    public var withoutExpiry: Assignment {
        var copy = self
        copy.clearExpiresAtMs()
        copy.clearSigned()
        return copy
    }
}

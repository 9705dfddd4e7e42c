import DaemonSupport
import FleetProtocol
import Foundation
import NIOConcurrencyHelpers

/// What an assignment must pass before the agent acts on it, when the agent trusts signing keys:
/// a trusted signature, unexpired metadata, and a version no lower than the highest it has accepted
/// for that model name (kept in the data directory across restarts) unless signed as an explicit
/// rollback. Without trusted keys every assignment passes as it comes, as before signed assignments.
///
/// It also remembers the expiry of the assignment serving now under each model name: a model keeps
/// serving when its metadata expires while the coordinator is out of reach, and the agent reports
/// that once it reconnects.
final class SignedAssignmentGate: Sendable {
    let keys: TrustedSigningKeys
    /// What expiry is judged by.
    let clock: WallClock
    private let acceptedVersions: AcceptedVersions
    private let serving = NIOLockedValueBox<[String: ServingMetadata]>([:])

    private struct ServingMetadata {
        var assignmentID: String
        var version: UInt64
        var expiresAtMillis: UInt64
        var reported = false
    }

    init(keys: TrustedSigningKeys, acceptedVersions: AcceptedVersions, clock: WallClock = .system) {
        self.keys = keys
        self.acceptedVersions = acceptedVersions
        self.clock = clock
    }

    var requiresSignatures: Bool { !keys.isEmpty }

    /// The signed assignment to act on, its version now the highest accepted (durably); throws the
    /// refusal, which names what was wrong.
    func admit(_ assignment: Assignment, nowMillis: UInt64? = nil) throws -> Assignment {
        guard requiresSignatures else { return assignment }
        let metadata = try AssignmentSigning.verify(assignment, trusting: keys)
        try AssignmentSigning.checkFreshness(
            metadata, highestAccepted: try acceptedVersions.highest(for: metadata.modelName), nowMillis: nowMillis ?? clock.nowMillis)
        try acceptedVersions.raise(metadata.modelName, to: metadata.version)
        return metadata
    }

    /// Whether a download for `assignment` must stop: its signed metadata has expired.
    func hasExpired(_ assignment: Assignment, nowMillis: UInt64? = nil) -> Bool {
        assignment.hasExpiresAtMs && (nowMillis ?? clock.nowMillis) >= assignment.expiresAtMs
    }

    /// Notes the signed metadata of the assignment serving now under its model name (or its renewal).
    func serves(_ assignment: Assignment) {
        guard assignment.hasExpiresAtMs else { return }
        serving.withLockedValue {
            $0[assignment.modelName] = ServingMetadata(
                assignmentID: assignment.assignmentID, version: assignment.version, expiresAtMillis: assignment.expiresAtMs)
        }
    }

    /// Forgets what served under every model name but `name` (`ServingState.keepOnly`).
    func servesOnly(_ name: String) {
        serving.withLockedValue { $0 = $0.filter { $0.key == name } }
    }

    /// The serving assignments whose metadata has expired, each once per expiry: what to report.
    func expiredWhileServing(nowMillis: UInt64? = nil) -> [SignedMetadataReport] {
        let nowMillis = nowMillis ?? clock.nowMillis
        return serving.withLockedValue { serving in
            serving.keys.sorted().compactMap { name in
                guard var current = serving[name], !current.reported, nowMillis >= current.expiresAtMillis else { return nil }
                current.reported = true
                serving[name] = current
                return Self.report(current)
            }
        }
    }

    private static func report(_ current: ServingMetadata) -> SignedMetadataReport {
        SignedMetadataReport.with {
            $0.assignmentID = current.assignmentID
            $0.version = current.version
            $0.event = .expiredWhileServing
            $0.reason = "its signed metadata expired at \(Date(timeIntervalSince1970: Double(current.expiresAtMillis) / 1000).formatted(.iso8601)) "
                + "while the coordinator was out of reach; the agent kept serving it"
        }
    }
}

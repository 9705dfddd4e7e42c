import Crypto
import FleetProtocol
import Foundation
import ShadowEval

/// What a simulated agent keeps across its connections, as a real agent keeps its cache and spool:
/// the models it holds, its assignment, its sequence numbers and the windows not yet acked.
struct SimulatedAgentState {
    struct WindowKey: Hashable, Comparable {
        var assignmentID: String
        var sequence: UInt64

        static func < (lhs: WindowKey, rhs: WindowKey) -> Bool {
            (lhs.assignmentID, lhs.sequence) < (rhs.assignmentID, rhs.sequence)
        }
    }

    /// A model being downloaded: bytes so far and their running hash.
    struct Download {
        var received: UInt64 = 0
        var hash = SHA256()
    }

    enum ChunkResult: Equatable {
        case progressing
        /// The model is complete and verified; `ready` when it was the last one the assignment needed.
        case complete(ready: Bool)
        /// The bytes did not hash to the address; fetch again from 0.
        case corrupt
        case unexpected
    }

    var cached: Set<String> = []
    var assignment: Assignment?
    var ready = false
    var downloads: [String: Download] = [:]
    var nextSequence: [String: UInt64] = [:]
    var unacked: [WindowKey: (window: ShadowWindow, sentAt: ContinuousClock.Instant?)] = [:]
    var generator: SeededGenerator

    init(seed: UInt64) {
        generator = SeededGenerator(seed: seed)
    }

    /// Models the assignment needs that are not cached: the reference, and the candidate unless
    /// the rollout was rolled back (then the candidate no longer runs).
    mutating func take(_ assignment: Assignment, download: Bool) -> [String] {
        self.assignment = assignment
        let needed = [assignment.reference.sha256] + (assignment.mode == .rolledBack ? [] : [assignment.candidate.sha256])
        if !download { cached.formUnion(needed) }
        let missing = needed.filter { !cached.contains($0) }
        for sha256 in missing where downloads[sha256] == nil { downloads[sha256] = Download() }
        ready = missing.isEmpty && assignment.mode != .rolledBack
        return missing
    }

    mutating func receive(_ chunk: ModelChunk) -> ChunkResult {
        guard var download = downloads[chunk.sha256], chunk.offset == download.received else { return .unexpected }
        download.hash.update(data: chunk.data)
        download.received += UInt64(chunk.data.count)
        guard download.received >= chunk.totalSize else {
            downloads[chunk.sha256] = download
            return .progressing
        }
        downloads[chunk.sha256] = nil
        let digest = download.hash.finalize().map { String(format: "%02x", $0) }.joined()
        guard digest == chunk.sha256 else {
            downloads[chunk.sha256] = Download()
            return .corrupt
        }
        cached.insert(chunk.sha256)
        let stillMissing = assignment.map { [$0.reference.sha256, $0.candidate.sha256] }?.filter { !cached.contains($0) } ?? []
        ready = assignment != nil && stillMissing.isEmpty && assignment?.mode != .rolledBack
        return .complete(ready: ready)
    }

    /// The next window of the current assignment, kept unacked until its ack arrives.
    mutating func makeWindow(evidence: SimulatedEvidence, now: Date = Date()) -> ShadowWindow? {
        guard ready, let assignment else { return nil }
        let sequence = nextSequence[assignment.assignmentID, default: 0]
        nextSequence[assignment.assignmentID] = sequence + 1
        let ended = Int64(now.timeIntervalSince1970 * 1000)
        let window = evidence.window(
            size: max(1, Int(assignment.windowSize)), assignmentID: assignment.assignmentID, sequence: sequence,
            startedAtMillis: ended - 1000, endedAtMillis: ended, using: &generator)
        unacked[WindowKey(assignmentID: assignment.assignmentID, sequence: sequence)] = (window, nil)
        return window
    }

    mutating func markSent(_ window: ShadowWindow, at instant: ContinuousClock.Instant) {
        unacked[WindowKey(assignmentID: window.assignmentID, sequence: window.sequence)]?.sentAt = instant
    }

    /// The unacked windows in sequence order, to send again after a reconnect.
    var pending: [ShadowWindow] { unacked.keys.sorted().compactMap { unacked[$0]?.window } }

    /// Forgets an acked window; returns when it was last sent, or nil if it was acked before.
    mutating func acknowledge(_ ack: WindowAck, now: ContinuousClock.Instant = .now) -> ContinuousClock.Instant? {
        guard let entry = unacked.removeValue(forKey: WindowKey(assignmentID: ack.assignmentID, sequence: ack.sequence)) else {
            return nil
        }
        return entry.sentAt ?? now
    }
}

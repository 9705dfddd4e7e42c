import DaemonSupport
import FleetProtocol
import Foundation
import GRDB
import ShadowEval

/// Labels that come after the answer: a reviewer on a factory line says minutes or hours later what
/// the part really was. For each shadowed request that came without a label, the spool keeps its
/// paired outcome (each model's top-1 class), a few dozen bytes, until its label arrives or
/// `label-horizon-ms` passes; at most `max-awaiting-labels` of them, the oldest going first. A batch
/// of labels is applied in one transaction, which both drops the outcomes it labels and seals what
/// they add up to as a late-label delta under the assignment's next sequence number: sent and acked
/// like a window, so each label counts exactly once, through restarts and resends.
extension WindowSpool {
    /// One row of an answered request whose label may come later.
    public struct AwaitedLabel: Sendable, Equatable {
        public var requestID: String
        public var row: Int
        public var assignmentID: String
        public var kernelPath: String
        public var referenceClass: Int
        public var candidateClass: Int
        public var answeredAtMillis: Int64

        public init(
            requestID: String, row: Int, assignmentID: String, kernelPath: String, referenceClass: Int, candidateClass: Int,
            answeredAtMillis: Int64
        ) {
            self.requestID = requestID
            self.row = row
            self.assignmentID = assignmentID
            self.kernelPath = kernelPath
            self.referenceClass = referenceClass
            self.candidateClass = candidateClass
            self.answeredAtMillis = answeredAtMillis
        }
    }

    /// A label for one row of an answered request.
    public struct LateLabel: Sendable, Equatable {
        public var requestID: String
        public var row: Int
        public var label: Int

        public init(requestID: String, row: Int = 0, label: Int) {
            self.requestID = requestID
            self.row = row
            self.label = label
        }
    }

    /// What applying a batch of labels did.
    public struct LabelsApplied: Sendable, Equatable {
        /// Labels folded into deltas.
        public var accepted = 0
        /// Request ids (with the row, when not 0) that had no outcome waiting: never shadowed, labelled
        /// already or in the request, past the horizon, pushed out by newer ones, or not sealed yet.
        public var notAwaited: [String] = []
        /// Outcomes dropped for having waited past the horizon.
        public var expired = 0
        /// The deltas sealed, one per assignment the labels concern.
        public var deltas: [ShadowWindow] = []
    }

    /// Keeps the outcomes until their labels come; returns how many older ones were dropped to stay
    /// within `maxAwaiting`.
    public func awaitLabels(_ outcomes: [AwaitedLabel], maxAwaiting: Int) throws -> Int {
        guard !outcomes.isEmpty else { return 0 }
        return try database.write { db in
            for outcome in outcomes {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO awaiting_labels
                            (request_id, row, assignment_id, kernel_path, reference_class, candidate_class, answered_at_ms)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        outcome.requestID, outcome.row, outcome.assignmentID, outcome.kernelPath, outcome.referenceClass,
                        outcome.candidateClass, outcome.answeredAtMillis,
                    ])
            }
            let excess = (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM awaiting_labels") ?? 0) - maxAwaiting
            guard excess > 0 else { return 0 }
            try db.execute(
                sql: "DELETE FROM awaiting_labels WHERE rowid IN (SELECT rowid FROM awaiting_labels ORDER BY answered_at_ms LIMIT ?)",
                arguments: [excess])
            return excess
        }
    }

    /// Outcomes waiting for their labels.
    public func awaitingLabels() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM awaiting_labels") ?? 0 }
    }

    /// Applies the labels, in one transaction: outcomes older than `horizonMillis` are dropped first,
    /// then each label's outcome is counted (both right, only one, both wrong, under the label's
    /// class) and dropped, and each assignment's counts are sealed as one delta.
    public func applyLabels(_ labels: [LateLabel], horizonMillis: Int64, nowMillis: Int64) throws -> LabelsApplied {
        try database.write { db in
            var applied = LabelsApplied()
            try db.execute(sql: "DELETE FROM awaiting_labels WHERE answered_at_ms < ?", arguments: [nowMillis - horizonMillis])
            applied.expired = db.changesCount
            var deltas: [String: (kernelPath: String, aggregate: WindowAggregate)] = [:]
            for label in labels {
                guard let outcome = try Row.fetchOne(
                    db, sql: "SELECT * FROM awaiting_labels WHERE request_id = ? AND row = ?", arguments: [label.requestID, label.row])
                else {
                    applied.notAwaited.append(label.row == 0 ? label.requestID : "\(label.requestID)[\(label.row)]")
                    continue
                }
                try db.execute(sql: "DELETE FROM awaiting_labels WHERE request_id = ? AND row = ?", arguments: [label.requestID, label.row])
                var paired = PairedOutcomes()
                paired.record(
                    referenceRight: outcome["reference_class"] == label.label, candidateRight: outcome["candidate_class"] == label.label)
                let assignmentID: String = outcome["assignment_id"]
                var delta = deltas[assignmentID] ?? (outcome["kernel_path"], WindowAggregate())
                delta.aggregate.labels.merge(paired)
                delta.aggregate.labelsByClass[label.label, default: PairedOutcomes()].merge(paired)
                deltas[assignmentID] = delta
                applied.accepted += 1
            }
            for (assignmentID, delta) in deltas.sorted(by: { $0.key < $1.key }) {
                var aggregate = delta.aggregate
                (aggregate.startedAtMillis, aggregate.endedAtMillis) = (nowMillis, nowMillis)
                var unsequenced = ShadowWindow(aggregate, assignmentID: assignmentID, sequence: 0, kernelPath: delta.kernelPath)
                unsequenced.labelDelta = true
                applied.deltas.append(try Self.insert(unsequenced, db))
            }
            return applied
        }
    }
}

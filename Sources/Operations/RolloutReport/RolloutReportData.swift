import Foundation
import Ledger
import ShadowEval

/// The evaluations of one stage on one metric, oldest first: what one chart draws. A stage whose
/// evidence switched from top-1 disagreement to labelled accuracy drop has two series, because n
/// counts different samples for each and one x axis cannot carry both.
public struct BoundSeries: Sendable, Equatable {
    /// 0-based stage as stored; nil for a rollout without stages.
    public var stage: Int?
    public var metric: String
    public var decisions: [DecisionRecord]

    public init(stage: Int?, metric: String, decisions: [DecisionRecord]) {
        self.stage = stage
        self.metric = metric
        self.decisions = decisions
    }

    /// Splits decisions (in ledger order) into series by stage, then by metric in order of appearance.
    static func group(_ decisions: [DecisionRecord]) -> [BoundSeries] {
        var series: [BoundSeries] = []
        for record in decisions {
            if let index = series.firstIndex(where: { $0.stage == record.stage && $0.metric == record.decision.metric }) {
                series[index].decisions.append(record)
            } else {
                series.append(BoundSeries(stage: record.stage, metric: record.decision.metric, decisions: [record]))
            }
        }
        // Unstaged (nil) first, then by stage; the sort is stable, so metrics keep their order.
        return series.enumerated().sorted { ($0.element.stage ?? -1, $0.offset) < ($1.element.stage ?? -1, $1.offset) }
            .map(\.element)
    }
}

/// Everything the rollout report shows, read from a ledger in one go.
public struct RolloutReportData: Sendable {
    public var ledgerPath: String
    public var rollout: RolloutRecord
    /// nil for a rollout opened from the coordinator's configuration rather than the admin API.
    public var plan: RolloutPlan?
    /// When the candidate's answer counts as materially different (its registered task), in words.
    public var task: String
    public var series: [BoundSeries]
    public var latestDecision: DecisionRecord?
    public var events: [RolloutEvent]
    public var evidence: [AgentStageEvidence]
    public var bands: PolicyBands
    /// Every policy version the decisions recorded, in order of first use.
    public var policyVersions: [String]

    public init(
        ledgerPath: String, rollout: RolloutRecord, plan: RolloutPlan?, task: String, decisions: [DecisionRecord],
        events: [RolloutEvent], evidence: [AgentStageEvidence], bands: PolicyBands
    ) {
        self.ledgerPath = ledgerPath
        self.rollout = rollout
        self.plan = plan
        self.task = task
        self.series = BoundSeries.group(decisions)
        self.latestDecision = decisions.last
        self.events = events
        self.evidence = evidence
        self.bands = bands
        var versions: [String] = []
        for version in decisions.map(\.decision.policyVersion) where !versions.contains(version) { versions.append(version) }
        self.policyVersions = versions.isEmpty ? [rollout.policyVersion] : versions
    }

    /// Reads rollout `id` from `reader`. The charts shade the bands the decisions recorded; for a
    /// ledger from before they were recorded, those of `policy` (see `PolicyBands.resolve`).
    public static func load(rolloutID id: String, from reader: LedgerReader, policy: Policy? = nil) throws -> RolloutReportData {
        let rollout = try reader.rollout(id: id)
        let decisions = try reader.decisions(forRollout: id)
        let recordedVersion = decisions.last?.decision.policyVersion ?? rollout.policyVersion
        return RolloutReportData(
            ledgerPath: reader.path, rollout: rollout, plan: try reader.plan(forRollout: id),
            task: try reader.model(sha256: rollout.candidateSHA256).taskSummary, decisions: decisions,
            events: try reader.events(forRollout: id), evidence: try reader.stageEvidence(forRollout: id),
            bands: try PolicyBands.resolve(latest: decisions.last?.decision, recordedVersion: recordedVersion, policy: policy))
    }

    /// "Stage 2 of 3 (25 % of the target)", "Stage 2", or "Whole rollout" for one without stages.
    func title(ofStage stage: Int?) -> String {
        guard let stage else { return "Whole rollout" }
        guard let plan, plan.stages.indices.contains(stage) else { return "Stage \(stage + 1)" }
        return "Stage \(stage + 1) of \(plan.stages.count) (\(plan.stages[stage]) % of the target)"
    }
}

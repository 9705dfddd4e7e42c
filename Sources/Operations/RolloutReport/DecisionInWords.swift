import Ledger
import ShadowEval

/// The rollout's standing in sentences an ops engineer can act on: what was decided, on which
/// evidence, against which threshold, and where the rollout is now.
struct DecisionInWords {
    let data: RolloutReportData

    /// "Ship", "Needs QAT", "Stay on FP16", "Still collecting" or "No evaluation yet".
    var headline: String {
        guard let outcome = data.latestDecision?.decision.outcome else { return "No evaluation yet" }
        switch outcome {
        case .ship: return "Ship"
        case .needsQAT: return "Needs QAT"
        case .stayFP16: return "Stay on FP16"
        case .collecting: return "Still collecting"
        }
    }

    /// CSS class of the verdict box: its colour matches the outcome's band in the charts.
    var outcomeClass: String { data.latestDecision.map { "outcome-\($0.decision.outcome.rawValue)" } ?? "outcome-none" }

    /// Why, from the latest decision's bounds and the band edges.
    var explanation: String {
        guard let record = data.latestDecision else {
            return "The ledger holds no evaluation of this rollout yet: agents have not sent enough windows."
        }
        let decision = record.decision
        let confidence = ReportFormat.percent(decision.confidence, digits: 0)
        let bounds = "[\(ReportFormat.percent(decision.lowerBound)), \(ReportFormat.percent(decision.upperBound))]"
        let evidence = "\(metricPhrase(decision.metric)) \(ReportFormat.percent(decision.statistic)), \(confidence) bounds \(bounds), "
            + "n = \(ReportFormat.count(decision.n))"
        let ship = ReportFormat.threshold(data.bands.shipBelow)
        let stay = ReportFormat.threshold(data.bands.stayFP16Above)
        let place = record.stage.map { " at " + data.title(ofStage: $0).lowercased() } ?? ""
        switch decision.outcome {
        case .ship:
            return "The candidate may ship\(place): with \(confidence) confidence the accuracy drop is below \(ship) "
                + "(upper bound \(ReportFormat.percent(decision.upperBound))). Evidence: \(evidence)."
        case .needsQAT:
            return "The candidate is not ready\(place): with \(confidence) confidence the accuracy drop lies between \(ship) and \(stay), "
                + "too large to ship and too small to call a failure. Quantization-aware training or a better PTQ recipe is needed; "
                + "the rollout is held. Evidence: \(evidence)."
        case .stayFP16:
            return "Keep the FP16 model\(place): with \(confidence) confidence the accuracy drop is above \(stay) "
                + "(lower bound \(ReportFormat.percent(decision.lowerBound))); the candidate is rolled back. Evidence: \(evidence)."
        case .collecting:
            return "No decision yet\(place): the bounds \(bounds) still straddle \(ship) or \(stay), so agents keep shadowing "
                + "until the interval fits inside one band. Evidence: \(evidence)."
        }
    }

    /// Where the rollout stands, which can differ from the policy's word: an operator may have
    /// aborted or forced a promotion.
    var standing: String {
        var sentence: String
        if let plan = data.plan {
            sentence = "Rollout state: \(plan.state.rawValue), stage \(plan.stage + 1) of \(plan.stages.count)"
        } else {
            sentence = "Rollout status: \(data.rollout.status.rawValue)"
        }
        if let outcome = data.rollout.outcome {
            sentence += "; recorded outcome \(outcome.rawValue)"
            if let decidedAt = data.rollout.decidedAt { sentence += " at \(ReportFormat.time(decidedAt))" }
        }
        if let last = data.events.last {
            sentence += ". Last action: \(last.action) by \(last.actor)" + (last.reason.isEmpty ? "" : " (\(last.reason))")
        }
        return sentence + "."
    }

    private func metricPhrase(_ metric: String) -> String {
        switch DecisionMetric(rawValue: metric) {
        case .labelledAccuracyDrop: return "labelled accuracy drop"
        case .disagreement: return "disagreement (for classification: top-1 disagreement, an upper bound on the accuracy drop)"
        case .excessDisagreement: return "disagreement above the reference's own on another kernel path (noise floor)"
        case nil: return metric
        }
    }
}

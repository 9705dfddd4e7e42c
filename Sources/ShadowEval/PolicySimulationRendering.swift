import Foundation

/// `quantfleet policy simulate` output: a table for people, one JSON object for scripts.
extension PolicySimulationReport: Encodable {
    enum CodingKeys: String, CodingKey {
        case policyVersion = "policy_version"
        case bounds
        case slices
        case confidence
        case runs
        case seed
        case windowSamples = "window_samples"
        case maximumSamples = "max_samples"
        case candidateGainRate = "candidate_gain_rate"
        case falseShipRateAtMargin = "false_ship_rate_at_margin"
        case falseRejectRate = "false_reject_rate"
        case meanSamples = "mean_samples"
        case fixedNSamples = "fixed_n_samples"
        case unlabelled
        case scenarios
        case coverage
        case latencyGuard = "latency_guard"
    }

    private struct ScenarioRow: Encodable {
        var evidence: String
        var trueDrop: Double
        var ship, needsQAT, stayFP16, undecided: Double
        var meanSamples: Double
        var fixedNSamples: Int?
        var ratioToFixedN: Double?

        enum CodingKeys: String, CodingKey {
            case evidence, ship, undecided
            case trueDrop = "true_drop"
            case needsQAT = "needs_qat"
            case stayFP16 = "stay_fp16"
            case meanSamples = "mean_samples"
            case fixedNSamples = "fixed_n_samples"
            case ratioToFixedN = "ratio_to_fixed_n"
        }
    }

    /// The labelled summary's keys sit at the top level (labels are the evidence the policy prefers);
    /// the unlabelled summary has the same keys under "unlabelled"; every scenario is under "scenarios".
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(policy.version, forKey: .policyVersion)
        try container.encode(policy.bounds.rawValue, forKey: .bounds)
        try container.encode(settings.slices.rawValue, forKey: .slices)
        try container.encode(policy.confidence, forKey: .confidence)
        try container.encode(settings.runs, forKey: .runs)
        try container.encode(settings.seed, forKey: .seed)
        try container.encode(settings.windowSize, forKey: .windowSamples)
        try container.encode(settings.maximumSamples, forKey: .maximumSamples)
        try container.encode(settings.candidateGainRate, forKey: .candidateGainRate)
        let labelled = summary(.labelled)
        try container.encode(labelled.falseShipRateAtMargin, forKey: .falseShipRateAtMargin)
        try container.encode(labelled.falseRejectRate, forKey: .falseRejectRate)
        try container.encode(labelled.meanSamples, forKey: .meanSamples)
        try container.encode(labelled.fixedNSamples, forKey: .fixedNSamples)
        try container.encode(summary(.unlabelled), forKey: .unlabelled)
        try container.encode(
            scenarios.map { result in
                ScenarioRow(
                    evidence: result.evidence.rawValue, trueDrop: result.trueDrop,
                    ship: result.rate(of: .ship), needsQAT: result.rate(of: .needsQAT),
                    stayFP16: result.rate(of: .stayFP16), undecided: result.rate(of: .collecting),
                    meanSamples: result.meanSamples,
                    fixedNSamples: fixedSampleSize(result.evidence, trueDrop: result.trueDrop),
                    ratioToFixedN: ratioToFixedSampleSize(result))
            }, forKey: .scenarios)
        if !coverage.isEmpty { try container.encode(coverage, forKey: .coverage) }
        if !latencyGuard.isEmpty { try container.encode(LatencyGuardSummary(self), forKey: .latencyGuard) }
    }

    /// Mean samples to a decision over what the fixed-n test needs; nil where it has no n.
    public func ratioToFixedSampleSize(_ result: ScenarioResult) -> Double? {
        fixedSampleSize(result.evidence, trueDrop: result.trueDrop).map { result.meanSamples / Double($0) }
    }

    /// The report as a plain-text table with its headline lines, ready for a terminal or the README.
    public func table() -> String {
        let header = [
            "evidence", "true drop", "ship", "needs-qat", "stay-fp16", "undecided", "mean samples", "fixed-n test", "ratio",
        ]
        let rows = scenarios.map { result -> [String] in
            [
                result.evidence.rawValue, percent(result.trueDrop, digits: 2),
                percent(result.rate(of: .ship)), percent(result.rate(of: .needsQAT)),
                percent(result.rate(of: .stayFP16)), percent(result.rate(of: .collecting)),
                String(format: "%.0f", result.meanSamples),
                fixedSampleSize(result.evidence, trueDrop: result.trueDrop).map(String.init) ?? "-",
                ratioToFixedSampleSize(result).map { String(format: "%.2fx", $0) } ?? "-",
            ]
        }
        let allowed = percent(1 - policy.confidence)
        let perEvidence = { (value: (PolicySimulation.Evidence) -> Double) in
            PolicySimulation.Evidence.allCases.map { "\($0.rawValue) \(percent(value($0)))" }.joined(separator: ", ")
        }
        return ([
            "policy \(policy.version): ship below \(percent(policy.shipBelow, digits: 2)), stay-fp16 above "
                + "\(percent(policy.stayFP16Above, digits: 2)), confidence \(percent(policy.confidence)), "
                + "at least \(policy.minimumSamples) samples (\(policy.minimumLabelled) labelled), \(policy.bounds.rawValue) bounds",
            "slices judged besides the whole: \(settings.slices.rawValue)",
            "\(settings.runs) seeded rollouts per row (seed \(settings.seed)), evaluated after every "
                + "\(settings.windowSize)-sample window, undecided after \(settings.maximumSamples) samples",
            "labelled: every sample labelled, the candidate alone right on \(percent(settings.candidateGainRate, digits: 2)); "
                + "unlabelled: every disagreement is a loss",
            "",
        ] + Self.columns(header: header, rows: rows) + [
            "",
            "false ship at the \(percent(trueDrops.margin, digits: 2)) margin: "
                + perEvidence { summary($0).falseShipRateAtMargin } + " (the policy allows \(allowed))",
            "false stay-fp16 at \(percent(trueDrops.clearlyShippable, digits: 2)): "
                + perEvidence { summary($0).falseRejectRate },
            "fixed-n test: the n a single look needs at the same confidence (power = confidence, normal approximation); "
                + "ratio: mean samples / fixed-n",
        ] + coverage.map { result in
            "coverage: \(result.evidence.rawValue) at \(percent(result.trueDrop, digits: 2)), the sequence ever excluded the "
                + "truth in \(percent(result.failureRate, digits: 2)) of \(settings.runs) runs (allowed \(allowed))"
        } + latencyLines()).joined(separator: "\n")
    }

    /// Rows under a header, aligned: the first column is a name (left-aligned), the rest numbers.
    static func columns(header: [String], rows: [[String]]) -> [String] {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { cells in
            cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }
    }

    func percent(_ fraction: Double, digits: Int = 1) -> String {
        String(format: "%.\(digits)f %%", fraction * 100)
    }
}

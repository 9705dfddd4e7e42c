import Foundation

/// The latency guard's part of `quantfleet policy simulate`: its table and headline lines, and its
/// JSON object.
extension PolicySimulationReport {
    func latencyLines() -> [String] {
        guard !latencyGuard.isEmpty else { return [] }
        let header = ["true ratio", "test", "break", "clear", "undecided", "mean requests"]
        let rows = latencyGuard.map { result in
            [
                LatencyGuard.times(result.trueRatio), result.test, percent(result.breakRate),
                percent(result.clearRate), percent(result.undecidedRate), String(format: "%.0f", result.meanRequests),
            ]
        }
        let quantile = LatencyGuard(policy: policy, limit: latencyLimit, method: .betting).quantileName
        let atLimit = { (method: BoundMethod) in latencyGuard.first { $0.method == method && $0.trueRatio == latencyLimit } }
        let slowest = latencyGuard.filter { $0.method == .betting }.max { $0.trueRatio < $1.trueRatio }
        let accuracy = scenario(.labelled, trueDrop: trueDrops.large)
        var lines = [
            "",
            "latency guard: max-latency-ratio \(latencyLimit), judged from \(policy.minimumSamples) requests on; sequential "
                + "(with betting bounds): anytime-valid bounds on the \(quantile) per-request ratio; plug-in (with beta-binomial "
                + "bounds, or agents before 0.4.0): the ratio of mean latencies",
            "each window from one of 3 device classes (reference medians 0.8, 2.4, 8 ms); per request the candidate "
                + "takes the reference's latency times the true ratio times U[0.5, 1.5]",
            "",
        ] + Self.columns(header: header, rows: rows) + [""]
        if let sequential = atLimit(.betting), let plugIn = atLimit(.betaBinomial) {
            lines.append(
                "at the limit, wrong break: sequential \(percent(sequential.breakRate)), plug-in \(percent(plugIn.breakRate)); "
                    + "wrong clearance: sequential \(percent(sequential.clearRate)), plug-in \(percent(plugIn.clearRate)) "
                    + "(allowed \(percent(1 - policy.confidence)))")
        }
        if let slowest, let accuracy {
            lines.append(
                "a \(LatencyGuard.times(slowest.trueRatio)) candidate is caught after \(String(format: "%.0f", slowest.meanRequests)) "
                    + "requests on average; the labelled accuracy decision at a \(percent(trueDrops.large, digits: 2)) drop takes "
                    + String(format: "%.0f", accuracy.meanSamples) + " samples")
        }
        for result in latencyCoverage {
            lines.append(
                "coverage: at a true ratio of \(LatencyGuard.times(result.trueRatio)), the quantile's sequence ever excluded it in "
                    + "\(percent(result.failureRate, digits: 2)) of \(settings.runs) runs (allowed \(percent(1 - policy.confidence)))")
        }
        return lines
    }
}

/// The latency guard's JSON object in `policy simulate --json`.
struct LatencyGuardSummary: Encodable {
    var limit: Double
    var quantile: Double
    var scenarios: [LatencyGuardResult]
    var coverage: [LatencyCoverageResult]

    init(_ report: PolicySimulationReport) {
        limit = report.latencyLimit
        quantile = LatencyGuard(policy: report.policy, limit: limit, method: .betting).quantile
        scenarios = report.latencyGuard
        coverage = report.latencyCoverage
    }

    enum CodingKeys: String, CodingKey {
        case limit, quantile, scenarios, coverage
    }
}

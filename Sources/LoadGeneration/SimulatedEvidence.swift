import DaemonSupport
import FleetProtocol
import ShadowEval

/// What a simulated agent's windows contain: samples drawn at a stated true accuracy drop, with or
/// without labels, so the decision the policy should reach is known before the run.
public struct SimulatedEvidence: Sendable, Equatable {
    public var trueDrop: Double
    public var evidence: PolicySimulation.Evidence
    /// Samples the candidate gets right and the reference wrong (labelled), as in `policy simulate`.
    public var candidateGainRate = 0.005
    /// Classes the samples spread over evenly (`window_classes` rows per window).
    public var classes = 10
    /// The reference's accuracy on the samples where both models agree.
    public var concordantAccuracy = 0.9

    public init(trueDrop: Double, evidence: PolicySimulation.Evidence) {
        self.trueDrop = trueDrop
        self.evidence = evidence
    }

    /// The outcome a policy with these bands should reach on this evidence. Without labels the
    /// evidence is top-1 disagreement, simulated at a rate equal to the drop (its worst case).
    public func expectedOutcome(shipBelow: Double, stayFP16Above: Double) -> Outcome {
        if trueDrop < shipBelow { return .ship }
        if trueDrop > stayFP16Above { return .stayFP16 }
        return .needsQAT
    }

    /// One window of `size` samples, with its class breakdown adding up to its totals.
    func window<Generator: RandomNumberGenerator>(
        size: Int, assignmentID: String, sequence: UInt64, startedAtMillis: Int64, endedAtMillis: Int64,
        using generator: inout Generator
    ) -> ShadowWindow {
        var summary = evidence.window(of: size, trueDrop: trueDrop, candidateGainRate: candidateGainRate, using: &generator)
        summary.startedAtMillis = startedAtMillis
        summary.endedAtMillis = endedAtMillis
        // Plausible latencies: 400 us a sample for the reference, 250 for the candidate.
        summary.referenceLatencyMicrosSum = size * 400
        summary.candidateLatencyMicrosSum = size * 250
        let concordant = summary.top1Agreements
        let disagreements = size - concordant
        let losses = summary.referenceOnlyCorrect
        let gains = summary.candidateOnlyCorrect
        let bothRight = summary.labelled > 0
            ? BinomialSampling.sample(trials: concordant, probability: concordantAccuracy, using: &generator) : 0
        if summary.labelled > 0 {
            summary.referenceCorrect = bothRight + losses
            summary.candidateCorrect = bothRight + gains
        }
        var window = ShadowWindow(summary, assignmentID: assignmentID, sequence: sequence, kernelPath: "simulated")
        window.klDivergenceSum = Double(disagreements) * 0.05
        window.maxAbsDiff = disagreements > 0 ? 0.2 : 0.01
        let perClass = (
            bothRight: spread(bothRight, using: &generator),
            bothWrong: spread(summary.labelled > 0 ? concordant - bothRight : 0, using: &generator),
            losses: spread(losses, using: &generator), gains: spread(gains, using: &generator),
            unlabelledAgreements: spread(summary.labelled > 0 ? 0 : concordant, using: &generator),
            unlabelledDisagreements: spread(summary.labelled > 0 ? 0 : disagreements, using: &generator))
        window.classes = (0..<classes).map { index in
            ClassSlice.with {
                $0.classIndex = UInt32(index)
                $0.bothRight = UInt32(perClass.bothRight[index])
                $0.bothWrong = UInt32(perClass.bothWrong[index])
                $0.referenceOnlyRight = UInt32(perClass.losses[index])
                $0.candidateOnlyRight = UInt32(perClass.gains[index])
                $0.agreements = $0.bothRight + $0.bothWrong + UInt32(perClass.unlabelledAgreements[index])
                $0.samples = $0.agreements + $0.referenceOnlyRight + $0.candidateOnlyRight
                    + UInt32(perClass.unlabelledDisagreements[index])
            }
        }
        return window
    }

    /// `count` samples dealt to the classes uniformly at random (a multinomial draw).
    private func spread<Generator: RandomNumberGenerator>(_ count: Int, using generator: inout Generator) -> [Int] {
        var shares = [Int](repeating: 0, count: classes)
        var remaining = count
        for index in 0..<(classes - 1) where remaining > 0 {
            let share = BinomialSampling.sample(
                trials: remaining, probability: 1 / Double(classes - index), using: &generator)
            shares[index] = share
            remaining -= share
        }
        shares[classes - 1] += remaining
        return shares
    }
}

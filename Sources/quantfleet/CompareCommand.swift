import ArgumentParser
import Foundation
import Quantization
import ShadowEval

/// `quantfleet compare ref.json cand.json`: the offline version of the rollout decision.
struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two `quantfleet validate` results: accuracy of both, the drop with its confidence interval, the policy band, the worst classes.",
        discussion: "Every sample is in hand offline, so the policy's minimum sample counts do not apply; its thresholds and confidence do.")

    @Argument(help: "The reference model's results (JSON from validate).")
    var reference: String

    @Argument(help: "The candidate model's results (JSON from validate).")
    var candidate: String

    @Option(help: "The rollout policy whose thresholds and confidence decide the band, e.g. Config/policy.yaml.")
    var policy: String

    @Option(help: "Classes to list, largest drop first.")
    var worst = 3

    func run() async throws {
        let comparison = try ResultComparison(reference: load(reference), candidate: load(candidate))
        if let referenceR2 = comparison.referenceRSquared, let candidateR2 = comparison.candidateRSquared {
            print("R^2:        reference \(String(format: "%.4f", referenceR2)), candidate \(String(format: "%.4f", candidateR2))")
            return
        }
        var rules = try Policy.read(file: policy)
        (rules.minimumSamples, rules.minimumLabelled) = (1, 1)
        // Offline every sample is in hand at once, in no order: the betting process needs one, the
        // mixture bounds do not.
        rules.bounds = .betaBinomial
        let decision = PolicyEvaluator.decide(
            EvidenceTotals(windows: 1, samples: comparison.samples, disagreements: comparison.disagreements,
                           labelled: comparison.labelled, referenceCorrect: comparison.referenceCorrect,
                           candidateCorrect: comparison.candidateCorrect, referenceOnlyCorrect: comparison.referenceOnlyCorrect,
                           candidateOnlyCorrect: comparison.candidateOnlyCorrect),
            policy: rules)
        if let referenceAccuracy = comparison.referenceAccuracy, let candidateAccuracy = comparison.candidateAccuracy {
            print("accuracy:   reference \(Percent(referenceAccuracy)), candidate \(Percent(candidateAccuracy)) on \(comparison.labelled) labelled samples")
        }
        print("top-1:      \(comparison.disagreements) of \(comparison.samples) samples disagree (\(Percent(Double(comparison.disagreements) / Double(max(comparison.samples, 1)))))")
        print("drop:       \(decision.metric) \(Percent(decision.statistic)), \(Percent(rules.confidence, digits: 0)) interval [\(Percent(decision.lowerBound)), \(Percent(decision.upperBound))]")
        print("band:       \(decision.outcome.rawValue) (policy \(rules.version))")
        for breakdown in comparison.classes.prefix(worst) {
            print("class \(breakdown.label):    \(breakdown.samples) samples, reference \(Percent(breakdown.referenceAccuracy)), candidate \(Percent(breakdown.candidateAccuracy)), drop \(Percent(breakdown.drop))")
        }
    }

    private func load(_ path: String) throws -> ValidationResults {
        do {
            return try JSONDecoder().decode(ValidationResults.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ValidationError("\(path) is not a readable `quantfleet validate` result: \(error)")
        }
    }
}

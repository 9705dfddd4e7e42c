import ArgumentParser
import Foundation
import ShadowEval

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check what a rollout policy promises.",
        subcommands: [Simulate.self])

    struct Simulate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seeded rollouts under a policy: false ship and false reject rates, samples to a decision.",
            discussion: """
                Each run streams paired samples in windows to the policy evaluator the coordinator uses, \
                until it decides or reaches --max-samples. True drops come from the policy's bands: \
                ship-below itself (a ship there is false), half of it (a stay-fp16 there is false), \
                and three drops where the time to a decision is measured.
                """)

        @Option(help: "The policy file, e.g. Config/policy.yaml.")
        var policy: String

        @Option(help: "Simulated rollouts per true drop and kind of evidence.")
        var runs = PolicySimulation.Settings().runs

        @Option(help: "Random seed; the same seed gives the same table.")
        var seed = PolicySimulation.Settings().seed

        @Option(help: "Paired samples per window; the policy is evaluated after each.")
        var window = PolicySimulation.Settings().windowSize

        @Option(help: "Samples after which a run still collecting counts as undecided.")
        var maxSamples = PolicySimulation.Settings().maximumSamples

        @Option(help: "Labelled runs: fraction of samples only the candidate gets right.")
        var gainRate = PolicySimulation.Settings().candidateGainRate

        @Option(help: "Confidence sequences to judge by, overriding the policy's `bounds`: betting or beta-binomial.")
        var bounds: BoundMethod?

        @Option(help: "Slices judged besides the whole, all at the same true drop: none, class, or class,device-class,kernel-path.")
        var slices: PolicySimulation.SliceSetup = .none

        @Flag(help: "Also measure coverage: the fraction of --runs runs in which the sequence ever excludes the true drop.")
        var coverage = false

        @Flag(help: "Print one JSON object instead of the table.")
        var json = false

        func run() async throws {
            guard let text = FileManager.default.contents(atPath: policy).map({ String(decoding: $0, as: UTF8.self) }) else {
                throw SimulateError("cannot read the policy file \(policy)")
            }
            var loaded: Policy
            do {
                loaded = try Policy(yaml: text)
            } catch {
                throw SimulateError("\(policy): \(error)")
            }
            if let bounds { loaded.bounds = bounds }
            let settings = PolicySimulation.Settings(
                runs: runs, seed: seed, windowSize: window, maximumSamples: maxSamples, candidateGainRate: gainRate,
                slices: slices)
            let simulation: PolicySimulation
            do {
                simulation = try PolicySimulation(policy: loaded, settings: settings)
            } catch {
                throw ValidationError(error.description)
            }
            let report = await simulation.report(measuringCoverage: coverage)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(report.table())
            }
        }
    }

    /// A problem with the policy file: reported without the usage text, which would not help.
    struct SimulateError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

extension BoundMethod: ExpressibleByArgument {}
extension PolicySimulation.SliceSetup: ExpressibleByArgument {}

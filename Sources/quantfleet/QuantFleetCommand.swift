import ArgumentParser

@main
struct QuantFleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantfleet",
        abstract: "Stage quantized models onto edge fleets safely: quantize, replay traffic, read the ledger.",
        subcommands: [DemoCommand.self, ChaosCommand.self, QuantizeCommand.self, ValidateCommand.self, CompareCommand.self, ReplayCommand.self, RolloutCommand.self, LedgerCommand.self, PolicyCommand.self, ModelCommand.self, AgentsCommand.self, RunCommand.self, BenchCommand.self, CheckCommand.self, LoadgenCommand.self])
}

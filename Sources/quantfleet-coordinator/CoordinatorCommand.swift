import ArgumentParser
import Coordinator
import DaemonSupport
import Logging

@main
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantfleet-coordinator",
        abstract: "Pushes candidate models to agents, ingests shadow windows into the ledger, decides rollouts.")

    @Option(name: .long, help: "Coordinator configuration file (YAML), e.g. Config/coordinator.yaml.")
    var config: String

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: Logger.Level = .info

    @Option(name: .long, help: "Log lines as text, or as JSON objects for log shippers.")
    var logFormat: LogFormat = .text

    func run() async throws {
        logFormat.bootstrap()
        var logger = Logger(label: "quantfleet.coordinator")
        logger.logLevel = logLevel
        let configuration = try CoordinatorConfiguration.load(from: config)
        try await CoordinatorApp.build(configuration: configuration, logger: logger).run()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}

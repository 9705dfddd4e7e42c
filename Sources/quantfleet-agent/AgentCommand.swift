import Agent
import ArgumentParser
import CHeapRetention
import DaemonSupport
import Foundation
import Logging

@main
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantfleet-agent",
        abstract: "Serves the reference model over the Open Inference Protocol and shadows the candidate.")

    @Option(name: .long, help: "Agent configuration file (YAML), e.g. Config/agent.yaml.")
    var config: String

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: Logger.Level = .info

    @Option(name: .long, help: "Log lines as text, or as JSON objects for log shippers.")
    var logFormat: LogFormat = .text

    func run() async throws {
        logFormat.bootstrap()
        var logger = Logger(label: "quantfleet.agent")
        logger.logLevel = logLevel
        let configuration = try AgentConfiguration.load(from: config)
        // Linking CHeapRetention kept freed tensor memory in the heap from start-up (see its header).
        logger.info("freed memory kept in the heap for the next inference", metadata: ["heap-retention": "\(qf_heap_retention_applied() == 1)"])
        // The proving ground's hook (`quantfleet chaos`): a file of seconds the agent's wall clock is moved by.
        let clock = ProcessInfo.processInfo.environment["QUANTFLEET_WALL_CLOCK_OFFSET_FILE"].map {
            WallClock.offset(file: URL(fileURLWithPath: $0))
        } ?? .system
        try await AgentApp.build(
            configuration: configuration, logger: logger, releaseFreedMemory: { qf_release_freed_memory() }, clock: clock
        ).run()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}

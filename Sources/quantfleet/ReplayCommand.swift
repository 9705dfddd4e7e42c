import ArgumentParser
import Foundation
import Operations

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send the rows of an .npz file to agents as Open Inference Protocol infer requests.")

    @Option(help: "An .npz with the model's input array (or `input`) and optionally `label`.")
    var data: String

    @Option(help: "Agent base URL, e.g. http://127.0.0.1:8081; repeat to spread traffic over several.")
    var agent: [String]

    @Option(help: "Model name the agents serve.")
    var model: String = FleetDemo.modelName

    @Option(help: "Requests in flight at once.")
    var concurrency: Int = 8

    @Option(help: "Replay only the first N rows.")
    var limit: Int?

    func validate() throws {
        guard !agent.isEmpty else { throw ValidationError("give at least one --agent URL") }
        for url in agent where URL(string: url)?.scheme == nil {
            throw ValidationError("--agent \(url) is not a URL such as http://127.0.0.1:8081")
        }
    }

    func run() async throws {
        let replay = TrafficReplay(options: .init(
            data: URL(fileURLWithPath: data), agents: agent.compactMap(URL.init(string:)), model: model,
            concurrency: concurrency, limit: limit))
        let printer = ProgressPrinter()
        let result = try await replay.run { printer.show($0) }
        printer.finish()
        print("replayed \(result.succeeded + result.failed) of \(result.total) rows: \(result.succeeded) answered, \(result.failed) failed (\(Int(result.requestsPerSecond)) requests/s)")
        if let error = result.firstError {
            print("first failure: \(error)")
            throw ExitCode.failure
        }
    }
}

import ArgumentParser
import Foundation
import Quantization

/// `quantfleet validate --model M --data DATA.npz -o results.json`
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Run a model with our engine over an .npz and write its per-sample outputs, labels and metrics as JSON.",
        discussion: "DATA.npz holds one array per model input (rows first) and, optionally, `label` (classes) or `target` (regression).")

    @Option(help: "The ONNX model to run.")
    var model: String

    @Option(help: "The rows to run it on (.npz).")
    var data: String

    @Option(name: [.short, .customLong("output")], help: "Where to write the results (JSON).")
    var output: String

    @Option(name: .customLong("model-output"), help: "The model output to record (default: the first float output).")
    var modelOutput: String?

    func run() async throws {
        let results = try ModelValidator.validate(
            modelAt: URL(fileURLWithPath: model), dataAt: URL(fileURLWithPath: data), outputName: modelOutput)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(results).write(to: URL(fileURLWithPath: output), options: .atomic)
        print("validated: \(results.outputs.count) samples of '\(results.output)' (\(results.task.rawValue))")
        if let accuracy = results.metrics.accuracy { print("accuracy:  \(Percent(accuracy))") }
        if let rSquared = results.metrics.rSquared { print("R^2:       \(String(format: "%.4f", rSquared))") }
        if results.labels == nil { print("labels:    none in the data; compare will use top-1 disagreement") }
        print("written:   \(output)")
    }
}

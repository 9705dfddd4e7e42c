import ArgumentParser
import Foundation
import Inference

/// `quantfleet run MODEL --data IN.npz -o OUT.npz`
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an ONNX model on the arrays of an .npz file and write its outputs to another .npz file.",
        discussion: "Arrays are matched to the model's inputs by name and must have the dtypes the model declares; outputs are written under the model's output names.")

    @Argument(help: "The ONNX model to run.")
    var model: String

    @Option(help: "An .npz file with one array per model input.")
    var data: String

    @Option(name: [.short, .customLong("output")], help: "Where to write the outputs (.npz).")
    var output: String

    func run() async throws {
        let session = try InferenceSession(contentsOf: URL(fileURLWithPath: model))
        let feeds = try session.feeds(from: NPZ.read(contentsOf: URL(fileURLWithPath: data)))
        let outputs = try session.run(feeds)
        try NPZ.write(outputs, to: URL(fileURLWithPath: output))
        for info in session.outputs {
            if let tensor = outputs[info.name] {
                print("\(info.name): \(tensor.elementType.rawValue) \(tensor.shape)")
            }
        }
        print("written: \(output)")
    }
}

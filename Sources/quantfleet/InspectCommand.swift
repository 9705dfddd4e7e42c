import ArgumentParser
import Foundation
import Inference

/// `quantfleet inspect MODEL`
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Load an ONNX model and print its inputs, outputs, operator counts and the integer kernel path.")

    @Argument(help: "The ONNX model to inspect.")
    var model: String

    func run() async throws {
        let session = try InferenceSession(contentsOf: URL(fileURLWithPath: model))
        print("model:       \(model)")
        for input in session.inputs {
            print("input:       \(Self.describe(input))")
        }
        for output in session.outputs {
            print("output:      \(Self.describe(output))")
        }
        let counts = session.operatorCounts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        print("operators:   \(counts.map(\.value).reduce(0, +)) node(s): \(counts.map { "\($0.key) x\($0.value)" }.joined(separator: ", "))")
        print("kernel path: \(session.kernelPath)")
    }

    private static func describe(_ info: TensorInfo) -> String {
        "\(info.name) \(info.elementType.rawValue) [\(info.shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", "))]"
    }
}

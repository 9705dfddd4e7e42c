import ArgumentParser
import Foundation
import Inference
import Quantization

/// `quantfleet check MODEL` (also `inspect`): can the engine run this model, and what is in it.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check that the engine runs an ONNX model: every node and element type it cannot run, the opsets, "
            + "inputs, outputs, operators, which quantization schemes apply and the integer kernel path.",
        aliases: ["inspect"])

    @Argument(help: "The ONNX model to check.")
    var model: String

    func run() async throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: model))
        } catch {
            throw ValidationError("cannot read \(model): \(error.localizedDescription)")
        }
        let check = try ModelCheck(modelData: data)
        print("model:         \(model)")
        print("opsets:        \(check.opsets.sorted { $0.key < $1.key }.map { "\($0.key.isEmpty ? "ai.onnx" : $0.key) \($0.value)" }.joined(separator: ", "))")
        print("element types: \(check.elementTypes.joined(separator: ", "))")
        if let session = check.session {
            for input in session.inputs { print("input:         \(Self.describe(input))") }
            for output in session.outputs {
                let derived = session.staticOutputShapes[output.name].map { "shape rules give \(StaticShapes.describe($0))" } ?? "shape known at run"
                print("output:        \(Self.describe(output)), \(derived)")
            }
            let counts = session.operatorCounts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            print("operators:     \(counts.map(\.value).reduce(0, +)) node(s) after load-time rewrites: "
                + counts.map { "\($0.key) x\($0.value)" }.joined(separator: ", "))
        }
        if let proto = try? Onnx_ModelProto(serializedBytes: data) {
            for scheme in ModelQuantizer.applicability(to: proto) {
                let verdict = scheme.reason.map { "does not apply: \($0)" } ?? "applies to \(scheme.quantizableNodes) node(s)"
                print("scheme:        \(scheme.scheme.rawValue) \(verdict)")
            }
        }
        print("kernel path:   \(InferenceSession.integerKernelPath)")
        guard check.canRun else {
            print("cannot run (\(check.problems.count) problem(s)):")
            for problem in check.problems { print("  \(problem)") }
            throw ExitCode(1)
        }
        print("runs: yes")
    }

    private static func describe(_ info: TensorInfo) -> String {
        "\(info.name) \(info.elementType.rawValue) \(StaticShapes.describe(info.shape))"
    }
}

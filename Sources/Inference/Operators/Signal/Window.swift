import Foundation

/// HannWindow, HammingWindow and BlackmanWindow of the given size, periodic (default) or symmetric,
/// in `output_datatype` (float32 by default).
struct Window: SingleOutputOperator {
    let coefficients: [Double]
    let periodic: Bool
    let type: ElementType

    init(_ context: OperatorContext) throws {
        coefficients = switch context.node.opType {
        case "HannWindow": [0.5, 0.5]
        case "HammingWindow": [25.0 / 46, 21.0 / 46]
        default: [0.42, 0.5, 0.08]
        }
        periodic = try context.attributes.int("periodic", default: 1) != 0
        type = try ElementType(onnxAttribute: context.attributes.int("output_datatype", default: 1), node: context.node.name, attribute: "output_datatype")
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let size = Int(try inputs.required(0).int64(at: 0))
        guard size >= 0 else { throw InferenceError.invalidOperand("window size \(size) is negative") }
        let period = Double(periodic ? size : size - 1)
        let values = (0..<size).map { n in
            // a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N)
            coefficients.enumerated().reduce(0.0) { sum, term in
                let sign: Double = term.offset % 2 == 0 ? 1 : -1
                return sum + sign * term.element * cos(2 * .pi * Double(term.offset) * Double(n) / period)
            }
        }
        return try Tensor(shape: [size], storage: TensorStorage.float64(values).converted(to: type))
    }
}

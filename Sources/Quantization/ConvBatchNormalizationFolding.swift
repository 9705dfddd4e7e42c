import Foundation
import Inference

/// Folds a BatchNormalization into the Conv before it, as onnxruntime's pre-processing does before
/// its quantizer: the weights quantized are then the ones the layer computes with, one scale per
/// output channel absorbs the normalisation exactly, and a ReLU after it sits directly on the Conv,
/// where a quantized graph can clamp it away.
///
/// W'[m] = W[m] x gamma[m] / sqrt(var[m] + epsilon), b'[m] = (b[m] - mean[m]) x gamma[m] / sqrt(var[m] + epsilon) + beta[m].
enum ConvBatchNormalizationFolding {
    /// Folds every foldable pair in `graph` except normalisations `isKept` names (the user's
    /// exclusions), and returns how many it folded.
    @discardableResult
    static func fold(_ graph: inout Onnx_GraphProto, isKept: (Onnx_NodeProto) -> Bool) -> Int {
        var constants = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let graphOutputs = Set(graph.output.map(\.name))
        var readers: [String: Int] = [:]
        for node in graph.node { for input in node.input where !input.isEmpty { readers[input, default: 0] += 1 } }
        var producerIndex: [String: Int] = [:]
        for (index, node) in graph.node.enumerated() { for output in node.output { producerIndex[output] = index } }

        var nodes = graph.node
        var dropped = Set<Int>()
        for (index, normalization) in graph.node.enumerated() {
            guard GraphEditing.isDefaultDomain(normalization), normalization.opType == "BatchNormalization",
                  normalization.input.count == 5, normalization.output.count == 1, !isKept(normalization),
                  let convolutionIndex = producerIndex[normalization.input[0]], !dropped.contains(convolutionIndex),
                  readers[normalization.input[0]] == 1, !graphOutputs.contains(normalization.input[0]),
                  let folded = folded(nodes[convolutionIndex], into: normalization, constants: constants)
            else { continue }
            for tensor in folded.constants {
                graph.initializer.append(tensor)
                constants[tensor.name] = tensor
            }
            var convolution = nodes[convolutionIndex]
            convolution.input = Array(convolution.input.prefix(1)) + [folded.weight, folded.bias]
            convolution.output = normalization.output
            nodes[convolutionIndex] = convolution
            dropped.insert(index)
        }
        graph.node = nodes.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
        return dropped.count
    }

    /// The folded weight and bias (names and new initializers), or nil when the pair does not fold:
    /// a Conv without constant float weights, or normalisation parameters that are not constants of
    /// one value per output channel.
    private static func folded(_ convolution: Onnx_NodeProto, into normalization: Onnx_NodeProto,
                               constants: [String: Onnx_TensorProto]) -> (weight: String, bias: String, constants: [Onnx_TensorProto])? {
        guard GraphEditing.isDefaultDomain(convolution), convolution.opType == "Conv", convolution.output.count == 1,
              convolution.input.count >= 2, let weightProto = constants[convolution.input[1]],
              let weight = try? Tensor(onnxTensor: weightProto), weight.elementType == .float32, weight.shape.count >= 3
        else { return nil }
        let channels = weight.shape[0]
        let parameters = normalization.input[1...4].map { name in constants[name].flatMap { try? Tensor(onnxTensor: $0) } }
        guard parameters.allSatisfy({ $0?.elementType == .float32 && $0?.count == channels }) else { return nil }
        let (gamma, beta, mean, variance) = (parameters[0]!.floats, parameters[1]!.floats, parameters[2]!.floats, parameters[3]!.floats)
        var bias = [Float](repeating: 0, count: channels)
        if convolution.input.count > 2, !convolution.input[2].isEmpty {
            guard let proto = constants[convolution.input[2]], let given = try? Tensor(onnxTensor: proto),
                  given.elementType == .float32, given.count == channels else { return nil }
            bias = given.floats
        }
        let epsilon = normalization.attribute.first { $0.name == "epsilon" }?.f ?? 1e-5
        let factors = (0..<channels).map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
        let perChannel = weight.count / channels
        var weights = weight.floats
        for channel in 0..<channels {
            for offset in (channel * perChannel)..<((channel + 1) * perChannel) { weights[offset] *= factors[channel] }
        }
        let foldedBias = (0..<channels).map { (bias[$0] - mean[$0]) * factors[$0] + beta[$0] }
        let name = GraphEditing.displayName(of: normalization)
        let names = (weight: "\(convolution.input[1])/folded_\(name)", bias: "\(name)/folded_bias")
        return (names.weight, names.bias, [
            Tensor(shape: weight.shape, floats: weights).onnxTensor(named: names.weight),
            Tensor(shape: [channels], floats: foldedBias).onnxTensor(named: names.bias),
        ])
    }
}

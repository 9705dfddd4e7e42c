import Inference

/// Rewrites an FP16 model as the FP32 model it approximates: float16 initializers, Constant
/// tensors, Casts and declared value types become float32, so quantization starts from FP32 values.
enum Float16Widening {
    private static let float16 = ElementType.float16.onnxDataType
    private static let float32 = ElementType.float32.onnxDataType

    /// Widens `graph` in place; returns whether anything was float16.
    static func widen(_ graph: inout Onnx_GraphProto) throws -> Bool {
        var changed = false
        for index in graph.initializer.indices where graph.initializer[index].dataType == float16 {
            graph.initializer[index] = try widenedTensor(graph.initializer[index])
            changed = true
        }
        for index in graph.node.indices {
            for attributeIndex in graph.node[index].attribute.indices {
                var attribute = graph.node[index].attribute[attributeIndex]
                if graph.node[index].opType == "Cast", attribute.name == "to", attribute.i == Int64(float16) {
                    attribute.i = Int64(float32)
                } else if attribute.type == .tensor, attribute.t.dataType == float16 {
                    attribute.t = try widenedTensor(attribute.t)
                } else {
                    continue
                }
                graph.node[index].attribute[attributeIndex] = attribute
                changed = true
            }
        }
        for keyPath in [\Onnx_GraphProto.input, \.output, \.valueInfo] {
            for index in graph[keyPath: keyPath].indices where graph[keyPath: keyPath][index].type.tensorType.elemType == float16 {
                graph[keyPath: keyPath][index].type.tensorType.elemType = float32
                changed = true
            }
        }
        return changed
    }

    private static func widenedTensor(_ tensor: Onnx_TensorProto) throws -> Onnx_TensorProto {
        try Tensor(onnxTensor: tensor).converted(to: .float32).onnxTensor(named: tensor.name)
    }
}

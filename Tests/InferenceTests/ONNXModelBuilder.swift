import Foundation
import Inference

/// Builds small ONNX models in memory for tests.
struct ONNXModelBuilder {
    var nodes: [Onnx_NodeProto] = []
    var initializers: [String: Tensor] = [:]
    var inputs: [TensorInfo] = []
    var outputs: [TensorInfo] = []
    var opsets: [String: Int64] = ["": 13]

    mutating func addNode(_ opType: String, domain: String = "", name: String, inputs: [String], outputs: [String],
                          intAttributes: [String: Int64] = [:], intListAttributes: [String: [Int64]] = [:],
                          floatAttributes: [String: Float] = [:], floatListAttributes: [String: [Float]] = [:],
                          stringAttributes: [String: String] = [:], stringListAttributes: [String: [String]] = [:]) {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.domain = domain
        node.name = name
        node.input = inputs
        node.output = outputs
        func attribute(_ name: String, _ type: Onnx_AttributeProto.AttributeType, _ fill: (inout Onnx_AttributeProto) -> Void) -> Onnx_AttributeProto {
            var attribute = Onnx_AttributeProto()
            attribute.name = name
            attribute.type = type
            fill(&attribute)
            return attribute
        }
        node.attribute = intAttributes.map { name, value in attribute(name, .int) { $0.i = value } }
        node.attribute += intListAttributes.map { name, values in attribute(name, .ints) { $0.ints = values } }
        node.attribute += floatAttributes.map { name, value in attribute(name, .float) { $0.f = value } }
        node.attribute += floatListAttributes.map { name, values in attribute(name, .floats) { $0.floats = values } }
        node.attribute += stringAttributes.map { name, value in attribute(name, .string) { $0.s = Data(value.utf8) } }
        node.attribute += stringListAttributes.map { name, values in attribute(name, .strings) { $0.strings = values.map { value in Data(value.utf8) } } }
        nodes.append(node)
    }

    func serialized() throws -> Data {
        var graph = Onnx_GraphProto()
        graph.name = "test"
        graph.node = nodes
        graph.initializer = initializers.sorted { $0.key < $1.key }.map { $0.value.onnxTensor(named: $0.key) }
        graph.input = inputs.map(Self.valueInfo)
        graph.output = outputs.map(Self.valueInfo)
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.graph = graph
        model.opsetImport = opsets.map { domain, version in
            var opset = Onnx_OperatorSetIdProto()
            opset.domain = domain
            opset.version = version
            return opset
        }
        return try model.serializedBytes()
    }

    private static func valueInfo(_ info: TensorInfo) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = info.elementType.onnxDataType
        tensorType.shape.dim = info.shape.map { size in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let size { dim.dimValue = Int64(size) } else { dim.dimParam = "batch" }
            return dim
        }
        var value = Onnx_ValueInfoProto()
        value.name = info.name
        value.type.tensorType = tensorType
        return value
    }
}

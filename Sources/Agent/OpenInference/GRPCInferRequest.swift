import Foundation
import OpenInferenceGRPC

/// The parser of gRPC `ModelInferRequest`s into the request both transports serve: each input's data
/// from `raw_input_contents` (the bytes the binary tensor data extension carries, in the order of
/// `inputs`) or from its typed `contents`, never both.
extension InferenceRequestBody {
    init(grpc request: Inference_ModelInferRequest) throws {
        let raw = request.rawInputContents
        guard raw.isEmpty || raw.count == request.inputs.count else {
            throw InferenceRequestError(
                description: "raw_input_contents has \(raw.count) entries for \(request.inputs.count) inputs; give one per input, in their order")
        }
        id = request.id.isEmpty ? nil : request.id
        parameters = request.parameters.isEmpty ? nil : request.parameters.mapValues(ParameterValue.init(grpc:))
        inputs = try request.inputs.enumerated().map { index, input in
            var payload = TensorPayload(
                name: input.name, shape: input.shape.map { Int(clamping: $0) }, datatype: input.datatype,
                parameters: input.parameters.isEmpty ? nil : input.parameters.mapValues(ParameterValue.init(grpc:)))
            let typed = input.hasContents ? try TensorContents(grpc: input.contents, input: input.name) : nil
            if !raw.isEmpty {
                guard typed == nil else {
                    throw InferenceRequestError(description: "input '\(input.name)' has contents, and the request has raw_input_contents too")
                }
                payload.data = .binary(raw[index])
            } else {
                payload.data = typed
            }
            return payload
        }
        outputs = request.outputs.isEmpty ? nil : request.outputs.map { output in
            RequestedOutput(
                name: output.name, parameters: output.parameters.isEmpty ? nil : output.parameters.mapValues(ParameterValue.init(grpc:)))
        }
    }
}

extension ParameterValue {
    init(grpc parameter: Inference_InferParameter) {
        switch parameter.parameterChoice {
        case .boolParam(let value): self = .flag(value)
        case .int64Param(let value): self = Int(exactly: value).map(ParameterValue.integer) ?? .other
        case .stringParam(let value): self = .text(value)
        case nil: self = .other
        }
    }
}

extension TensorContents {
    /// The one typed field that holds values (an empty tensor has none).
    init?(grpc contents: Inference_InferTensorContents, input: String) throws {
        var filled: [TensorContents] = []
        if !contents.boolContents.isEmpty { filled.append(.numbers(contents.boolContents.map { $0 ? 1 : 0 })) }
        if !contents.intContents.isEmpty { filled.append(.numbers(contents.intContents.map(Double.init))) }
        if !contents.int64Contents.isEmpty { filled.append(.numbers(contents.int64Contents.map(Double.init))) }
        if !contents.uintContents.isEmpty { filled.append(.numbers(contents.uintContents.map(Double.init))) }
        if !contents.uint64Contents.isEmpty { filled.append(.numbers(contents.uint64Contents.map(Double.init))) }
        if !contents.fp32Contents.isEmpty { filled.append(.numbers(contents.fp32Contents.map(Double.init))) }
        if !contents.fp64Contents.isEmpty { filled.append(.numbers(contents.fp64Contents)) }
        if !contents.bytesContents.isEmpty { filled.append(.texts(contents.bytesContents.map { String(decoding: $0, as: UTF8.self) })) }
        guard filled.count <= 1 else {
            throw InferenceRequestError(description: "input '\(input)': contents fills \(filled.count) typed fields; give one")
        }
        guard let only = filled.first else { return nil }
        self = only
    }
}

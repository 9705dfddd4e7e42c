@testable import Agent
import Foundation
import Inference

/// An Open Inference Protocol infer request as the agent's REST route meets it: a JSON body, or a
/// JSON header followed by binary tensor data (the first input byte, when non-zero, is the header's
/// length field), then each input checked and converted for a model input of each datatype the
/// agent serves.
private let declaredInputs = [
    TensorInfo(name: "pixels", elementType: .float32, shape: [nil, 784]),
    TensorInfo(name: "tokens", elementType: .int64, shape: [nil, nil]),
    TensorInfo(name: "texts", elementType: .string, shape: [nil]),
    TensorInfo(name: "image", elementType: .uint8, shape: [1, 3, 8, 8]),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOpenInference(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let bytes = Data(bytes: start, count: count)
    let headerLength = Int(bytes[bytes.startIndex])
    let body = bytes.dropFirst()
    let request = headerLength == 0
        ? try? InferenceRequestBody(json: body)
        : try? BinaryTensorRequest.parse(Data(body), headerLength: String(headerLength))
    for payload in request?.inputs ?? [] {
        for input in declaredInputs { _ = try? payload.tensor(for: input) }
    }
    return 0
}

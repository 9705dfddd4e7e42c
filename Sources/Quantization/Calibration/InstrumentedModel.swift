import Foundation
import Inference
import SwiftProtobuf

/// A model our engine runs with chosen intermediate tensors added as graph outputs: the engine
/// returns only graph outputs, and this observes values inside the graph without changing it.
struct InstrumentedModel {
    let session: InferenceSession
    private let observed: Set<String>

    init(_ model: Onnx_ModelProto, observing tensors: [String]) throws(QuantizationError) {
        var instrumented = model
        let declared = Set(model.graph.output.map(\.name))
        for name in tensors where !declared.contains(name) {
            var output = Onnx_ValueInfoProto()
            output.name = name
            output.type.tensorType.elemType = ElementType.float32.onnxDataType
            instrumented.graph.output.append(output)
        }
        do {
            session = try InferenceSession(modelData: try instrumented.serializedBytes())
        } catch {
            throw .calibrationFailed("our engine cannot load the model: \(error)")
        }
        observed = Set(tensors)
    }

    /// Runs `batch` of `rows` and returns the observed tensors' values.
    func values(of rows: ModelFeedRows, batch: Range<Int>) throws(QuantizationError) -> [String: [Float]] {
        let outputs: [String: Tensor]
        do {
            outputs = try session.run(rows.feeds(rows: batch))
        } catch {
            throw .calibrationFailed("our engine could not run rows \(batch.lowerBound)..<\(batch.upperBound): \(error)")
        }
        return outputs.filter { observed.contains($0.key) }.mapValues(\.floats)
    }
}

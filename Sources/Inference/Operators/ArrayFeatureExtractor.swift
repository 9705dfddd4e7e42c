/// ai.onnx.ml ArrayFeatureExtractor: picks elements of X's last dimension by index.
/// Follows onnxruntime for a 1-D X: the result has shape [1, number of indices].
struct ArrayFeatureExtractor: SingleOutputOperator {
    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), indices = try inputs.required(1).int64s
        guard let stride = x.shape.last else { throw InferenceError.invalidOperand("X must have rank >= 1") }
        if let bad = indices.first(where: { $0 < 0 || $0 >= stride }) {
            throw InferenceError.invalidOperand("index \(bad) is out of range for a last dimension of \(stride)")
        }
        let leading = x.shape.dropLast().reduce(1, *)
        let positions = (0..<leading).flatMap { row in indices.map { row * stride + Int($0) } }
        let shape = x.shape.count == 1 ? [1, indices.count] : x.shape.dropLast() + [indices.count]
        return Tensor(shape: shape, storage: x.storage.gathered(positions))
    }
}

extension ArrayFeatureExtractor: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard inputs.count > 1, let x = inputs[0], let indices = inputs[1], !x.isEmpty else { return [] }
        let count = try StaticShapes.product(indices)
        return [x.count == 1 ? [1, count] : x.dropLast() + [count]]
    }
}

/// Where(condition, X, Y): X's element where the condition holds, else Y's, all three broadcast.
struct Where: SingleOutputOperator, ShapeBroadcasting {
    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let condition = try inputs.required(0), x = try inputs.required(1), y = try inputs.required(2)
        guard case .bool(let holds) = condition.storage else {
            throw InferenceError.invalidOperand("condition must be bool, got \(condition.elementType.rawValue)")
        }
        let shape = try Broadcasting(condition.shape, Broadcasting(x.shape, y.shape).shape).shape
        let conditionAt = try Broadcasting.positions(of: condition.shape, in: shape)
        let xAt = try Broadcasting.positions(of: x.shape, in: shape), yAt = try Broadcasting.positions(of: y.shape, in: shape)
        // Y's elements follow X's in the joined storage.
        let joined = try TensorStorage.concatenated([x.storage, y.storage])
        let positions = conditionAt.indices.map { holds[conditionAt[$0]] ? xAt[$0] : x.count + yAt[$0] }
        return Tensor(shape: shape, storage: joined.gathered(positions))
    }
}

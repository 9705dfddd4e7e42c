import Inference

/// ONNX's backend comparison: numpy's assert_allclose with rtol 1e-3 and atol 1e-7 for floating-point
/// outputs (NaN matches NaN, infinities match themselves), exact equality for every other type.
enum NodeTestTolerance {
    static let relative: Float = 1e-3
    static let absolute: Float = 1e-7

    /// Values match when both are absent, or both are tensors that match, or both are sequences of
    /// as many tensors that match one by one.
    static func mismatch(_ actual: Value?, _ expected: Value?) -> String? {
        switch (actual, expected) {
        case (nil, nil): return nil
        case (.tensor(let actual)?, .tensor(let expected)?): return mismatch(actual, expected)
        case (.sequence(let actual)?, .sequence(let expected)?):
            guard actual.tensors.count == expected.tensors.count else {
                return "a sequence of \(actual.tensors.count) tensors, expected \(expected.tensors.count)"
            }
            for (index, (a, e)) in zip(actual.tensors, expected.tensors).enumerated() {
                if let mismatch = mismatch(a, e) { return "element \(index) of the sequence: \(mismatch)" }
            }
            return nil
        case (.map(let actual)?, .map(let expected)?): return mismatch(actual, expected)
        case (.maps(let actual)?, .maps(let expected)?):
            guard actual.count == expected.count else { return "a sequence of \(actual.count) maps, expected \(expected.count)" }
            for (index, (a, e)) in zip(actual, expected).enumerated() {
                if let mismatch = mismatch(a, e) { return "map \(index) of the sequence: \(mismatch)" }
            }
            return nil
        default:
            return "\(actual?.kindName ?? "no value"), expected \(expected?.kindName ?? "no value")"
        }
    }

    /// Maps match when their keys are equal and their values match.
    private static func mismatch(_ actual: TensorMap, _ expected: TensorMap) -> String? {
        if let mismatch = mismatch(actual.keys, expected.keys) { return "keys: \(mismatch)" }
        return mismatch(actual.values, expected.values).map { "values: \($0)" }
    }

    static func mismatch(_ actual: Tensor, _ expected: Tensor) -> String? {
        guard actual.elementType == expected.elementType else {
            return "type \(actual.elementType.rawValue), expected \(expected.elementType.rawValue)"
        }
        guard actual.shape == expected.shape else { return "shape \(actual.shape), expected \(expected.shape)" }
        if !expected.elementType.isFloatingPoint {
            return actual == expected ? nil : "values differ: \(actual.int64s.prefix(8)) vs \(expected.int64s.prefix(8))"
        }
        for (index, (a, e)) in zip(actual.floats, expected.floats).enumerated() {
            let close = (a.isNaN && e.isNaN) || a == e || abs(a - e) <= absolute + relative * abs(e)
            if !close { return "element \(index) is \(a), expected \(e)" }
        }
        return nil
    }
}

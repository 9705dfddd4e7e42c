import Inference

/// ONNX's backend comparison: numpy's assert_allclose with rtol 1e-3 and atol 1e-7 for floating-point
/// outputs (NaN matches NaN, infinities match themselves), exact equality for every other type.
enum NodeTestTolerance {
    static let relative: Float = 1e-3
    static let absolute: Float = 1e-7

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

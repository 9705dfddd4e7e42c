import Inference

/// How far one engine's output is from another's, for tests that compare real models.

/// ||actual - expected|| / ||expected||.
func relativeError(_ actual: Tensor, _ expected: Tensor) -> Float {
    let difference = zip(actual.floats, expected.floats).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    let scale = expected.floats.reduce(Float(0)) { $0 + $1 * $1 }
    return (difference / scale).squareRoot()
}

func cosine(_ a: [Float], _ b: [Float]) -> Float {
    let dot = zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }
    let norms = (a.reduce(Float(0)) { $0 + $1 * $1 } * b.reduce(Float(0)) { $0 + $1 * $1 }).squareRoot()
    return dot / norms
}

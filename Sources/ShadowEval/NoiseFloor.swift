/// The disagreement the float reference shows with itself: the same model and inputs under another
/// kernel path or thread count (summation order changes, so near-ties flip). Those flips are not
/// the candidate's doing; the excess over them is.
public enum NoiseFloor {
    /// Bounds on (candidate disagreement rate) - (reference-vs-itself disagreement rate) from an
    /// interval on each: when each holds at alpha / 2, the difference holds at alpha (union bound).
    public static func excess(candidate: ClosedRange<Double>, floor: ClosedRange<Double>) -> ClosedRange<Double> {
        (candidate.lowerBound - floor.upperBound)...(candidate.upperBound - floor.lowerBound)
    }
}

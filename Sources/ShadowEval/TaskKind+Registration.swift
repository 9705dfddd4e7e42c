/// Task kinds as operators name them when they register a model (`quantfleet model push --task`),
/// checked so that a bad parameter is an error that names it, never a crash.
extension TaskKind {
    public enum RegistrationError: Error, Equatable, CustomStringConvertible {
        case unknownKind(String)
        case invalidParameter(name: String, value: Double, expected: String)
        case missingParameter(kind: String, expected: String)

        public var description: String {
            switch self {
            case .unknownKind(let name): "unknown task '\(name)': use classification, regression or embedding"
            case .invalidParameter(let name, let value, let expected): "\(name) \(value) is invalid: \(expected)"
            case .missingParameter(let kind, let expected): "task \(kind) needs \(expected)"
            }
        }
    }

    public init(
        name: String, maximumProbabilityShift: Double? = nil, absoluteTolerance: Double? = nil,
        relativeTolerance: Double? = nil, minimumCosine: Double? = nil
    ) throws(RegistrationError) {
        switch name {
        case "classification":
            if let shift = maximumProbabilityShift, !(shift > 0 && shift < 1) {
                throw .invalidParameter(name: "max-probability-shift", value: shift, expected: "a fraction in (0, 1)")
            }
            self = .classification(ClassificationDifference(maximumProbabilityShift: maximumProbabilityShift))
        case "regression":
            let absolute = absoluteTolerance ?? 0
            let relative = relativeTolerance ?? 0
            for (parameter, value) in [("absolute-tolerance", absolute), ("relative-tolerance", relative)] where !(value >= 0) {
                throw .invalidParameter(name: parameter, value: value, expected: "not negative")
            }
            guard absolute > 0 || relative > 0 else {
                throw .missingParameter(kind: name, expected: "absolute-tolerance or relative-tolerance above 0")
            }
            self = .regression(RegressionTolerance(absolute: absolute, relative: relative))
        case "embedding":
            guard let minimumCosine else { throw .missingParameter(kind: name, expected: "min-cosine") }
            guard (-1...1).contains(minimumCosine) else {
                throw .invalidParameter(name: "min-cosine", value: minimumCosine, expected: "in [-1, 1]")
            }
            self = .embedding(EmbeddingFloor(minimumCosine: minimumCosine))
        default:
            throw .unknownKind(name)
        }
    }

    /// The kind's name, as registered.
    public var name: String {
        switch self {
        case .classification: "classification"
        case .regression: "regression"
        case .embedding: "embedding"
        }
    }

    /// When a sample counts as materially different, in words.
    public var summary: String {
        switch self {
        case .classification(let rule):
            "classification: top-1 differs"
                + (rule.maximumProbabilityShift.map { " or the reference's top class moves by more than \($0)" } ?? "")
        case .regression(let rule):
            "regression: an output misses by more than \(rule.absolute) + \(rule.relative) x |reference|"
        case .embedding(let rule):
            "embedding: cosine below \(rule.minimumCosine)"
        }
    }
}

/// Task kinds as operators name them when they register a model (`quantfleet model push --task`),
/// checked so that a bad parameter is an error that names it, never a crash.
extension TaskKind {
    public enum RegistrationError: Error, Equatable, CustomStringConvertible {
        case unknownKind(String)
        case unknownParameter(String)
        case inapplicableParameter(name: String, kind: String)
        case invalidParameter(name: String, value: String, expected: String)
        case missingParameter(kind: String, expected: String)

        public var description: String {
            switch self {
            case .unknownKind(let name):
                "unknown task '\(name)': use " + TaskKind.parameterNames.map(\.kind).joined(separator: ", ")
            case .unknownParameter(let name): "unknown task parameter '\(name)'"
            case .inapplicableParameter(let name, let kind):
                "\(name) is not a parameter of task \(kind) (it takes "
                    + (TaskKind.parameterNames.first { $0.kind == kind }?.names.joined(separator: ", ") ?? "none") + ")"
            case .invalidParameter(let name, let value, let expected): "\(name) \(value) is invalid: \(expected)"
            case .missingParameter(let kind, let expected): "task \(kind) needs \(expected)"
            }
        }
    }

    /// Each kind and the parameters it takes, by the names of the CLI's options and the admin API's
    /// query parameters.
    static let parameterNames: [(kind: String, names: [String])] = [
        ("classification", ["max-probability-shift"]),
        ("regression", ["absolute-tolerance", "relative-tolerance"]),
        ("embedding", ["min-cosine"]),
        ("detection", ["box-format", "min-iou", "min-score", "nms-iou"]),
        ("ctc", ["blank-index", "max-character-error-rate", "sequence-layout"]),
    ]

    /// Detection's defaults: the usual YOLO post-processing and a half-overlap match.
    static let defaultMinimumIoU = 0.5
    static let defaultMinimumScore = 0.25
    static let defaultNMSIoU = 0.45

    /// The task `name` with `parameters` as text by name (absent ones take their defaults).
    public init(name: String, parameters: [String: String] = [:]) throws(RegistrationError) {
        guard let taken = Self.parameterNames.first(where: { $0.kind == name })?.names else { throw .unknownKind(name) }
        for given in parameters.keys.sorted() where !taken.contains(given) {
            guard Self.parameterNames.contains(where: { $0.names.contains(given) }) else { throw .unknownParameter(given) }
            throw .inapplicableParameter(name: given, kind: name)
        }
        let read = ParameterReader(parameters: parameters)
        switch name {
        case "classification":
            let shift = try read.number("max-probability-shift", "a fraction in (0, 1)") { $0 > 0 && $0 < 1 }
            self = .classification(ClassificationDifference(maximumProbabilityShift: shift))
        case "regression":
            let absolute = try read.number("absolute-tolerance", "not negative") { $0 >= 0 } ?? 0
            let relative = try read.number("relative-tolerance", "not negative") { $0 >= 0 } ?? 0
            guard absolute > 0 || relative > 0 else {
                throw .missingParameter(kind: name, expected: "absolute-tolerance or relative-tolerance above 0")
            }
            self = .regression(RegressionTolerance(absolute: absolute, relative: relative))
        case "embedding":
            guard let minimumCosine = try read.number("min-cosine", "in [-1, 1]", { (-1...1).contains($0) }) else {
                throw .missingParameter(kind: name, expected: "min-cosine")
            }
            self = .embedding(EmbeddingFloor(minimumCosine: minimumCosine))
        case "detection":
            // The layout cannot be guessed: a [1, N, 6] output is one class of YOLO or decoded boxes alike.
            guard let format = try read.choice("box-format", DetectionMatching.BoxFormat.self) else {
                throw .missingParameter(kind: name, expected: "box-format (" + Self.choices(DetectionMatching.BoxFormat.self) + ")")
            }
            let fraction = "in (0, 1]", positiveFraction: (Double) -> Bool = { $0 > 0 && $0 <= 1 }
            self = .detection(DetectionMatching(
                boxFormat: format,
                minimumIoU: try read.number("min-iou", fraction, positiveFraction) ?? Self.defaultMinimumIoU,
                minimumScore: try read.number("min-score", "in [0, 1]") { (0...1).contains($0) } ?? Self.defaultMinimumScore,
                // Decoded boxes have been through the model's own NMS; raw predictions need one.
                nmsIoU: try read.number("nms-iou", fraction, positiveFraction)
                    ?? (format == .xyxyScoreClass ? nil : Self.defaultNMSIoU)))
        case "ctc":
            self = .ctc(CTCTextDifference(
                blankIndex: try read.index("blank-index") ?? 0,
                maximumCharacterErrorRate: try read.number("max-character-error-rate", "a fraction in [0, 1)") { $0 >= 0 && $0 < 1 },
                sequenceLayout: try read.choice("sequence-layout", CTCTextDifference.SequenceLayout.self) ?? .auto))
        default:
            throw .unknownKind(name)
        }
    }

    static func choices<Choice: CaseIterable & RawRepresentable<String>>(_: Choice.Type) -> String {
        Choice.allCases.map(\.rawValue).joined(separator: ", ")
    }

    /// Reads parameters given as text, refusing by name any that is malformed or out of range.
    private struct ParameterReader {
        let parameters: [String: String]

        func number(
            _ name: String, _ expected: String, _ isValid: (Double) -> Bool
        ) throws(RegistrationError) -> Double? {
            guard let text = parameters[name] else { return nil }
            guard let value = Double(text), isValid(value) else { throw .invalidParameter(name: name, value: text, expected: expected) }
            return value
        }

        func index(_ name: String) throws(RegistrationError) -> Int? {
            guard let text = parameters[name] else { return nil }
            guard let value = Int(text), value >= 0 else {
                throw .invalidParameter(name: name, value: text, expected: "a whole number, not negative")
            }
            return value
        }

        func choice<Choice: CaseIterable & RawRepresentable<String>>(
            _ name: String, _ type: Choice.Type
        ) throws(RegistrationError) -> Choice? {
            guard let text = parameters[name] else { return nil }
            guard let value = Choice(rawValue: text) else {
                throw .invalidParameter(name: name, value: text, expected: "one of " + TaskKind.choices(type))
            }
            return value
        }
    }

    /// The kind's name, as registered.
    public var name: String {
        switch self {
        case .classification: "classification"
        case .regression: "regression"
        case .embedding: "embedding"
        case .detection: "detection"
        case .ctc: "ctc"
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
        case .detection(let rule):
            "detection (\(rule.boxFormat.rawValue) boxes scoring at least \(rule.minimumScore), "
                + (rule.nmsIoU.map { "NMS above IoU \($0)" } ?? "the model's own NMS")
                + "): a box of either model without a same-class partner at IoU >= \(rule.minimumIoU)"
        case .ctc(let rule):
            "ctc (greedy, blank \(rule.blankIndex), \(rule.sequenceLayout.rawValue) layout): "
                + (rule.maximumCharacterErrorRate.map { "character error rate above \($0)" } ?? "decoded text differs")
        }
    }
}

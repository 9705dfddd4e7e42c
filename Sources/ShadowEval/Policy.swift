import StrictYAML
import Foundation

/// The written rollout policy: thresholds on the accuracy drop, confidence, minimum evidence.
/// Lives in `Config/policy.yaml`; decoding validates it, so a loaded policy is always sensible.
public struct Policy: Sendable, Codable, Equatable {
    /// Recorded with every decision, so each decision can be traced to the rules that made it.
    public var version: String
    /// Ship when the upper confidence bound of the drop is below this (a fraction: 0.01 is 1 %).
    public var shipBelow: Double
    /// Stay on FP16 when the lower confidence bound of the drop is above this.
    public var stayFP16Above: Double
    /// Simultaneous coverage of the confidence sequences, e.g. 0.95.
    public var confidence: Double
    /// No decision before this many paired samples.
    public var minimumSamples: Int
    /// Labelled evidence replaces top-1 disagreement once this many labels exist.
    public var minimumLabelled: Int
    /// Decide on labelled evidence only: collect until `minimumLabelled` labels, whatever the
    /// disagreement shows (labels that arrive late, from reviewers, are worth the wait).
    public var requiresLabels: Bool
    /// Breakdowns that must pass too; nil judges only the whole rollout.
    public var slices: SlicePolicy?
    /// Cost limits besides accuracy; nil sets none.
    public var guards: PolicyGuards?
    /// Judge unlabelled evidence on the candidate's disagreement in excess of the reference's with
    /// itself on another kernel path (the noise floor agents measure), not on all of it.
    public var subtractsNoiseFloor: Bool
    /// How often a stage is evaluated; nil evaluates it after every window.
    public var evaluation: EvaluationCadence?
    /// Which confidence sequence bounds the drop; recorded with every decision.
    public var bounds: BoundMethod

    enum CodingKeys: String, CodingKey, CaseIterable {
        case version
        case shipBelow = "ship-below"
        case stayFP16Above = "stay-fp16-above"
        case confidence
        case minimumSamples = "minimum-samples"
        case minimumLabelled = "minimum-labelled"
        case requiresLabels = "require-labels"
        case slices
        case guards
        case subtractsNoiseFloor = "subtract-noise-floor"
        case evaluation
        case bounds
    }

    public init(
        version: String, shipBelow: Double, stayFP16Above: Double, confidence: Double,
        minimumSamples: Int, minimumLabelled: Int, slices: SlicePolicy? = nil, guards: PolicyGuards? = nil,
        subtractsNoiseFloor: Bool = false, evaluation: EvaluationCadence? = nil, bounds: BoundMethod = .betting,
        requiresLabels: Bool = false
    ) {
        self.version = version
        self.shipBelow = shipBelow
        self.stayFP16Above = stayFP16Above
        self.confidence = confidence
        self.minimumSamples = minimumSamples
        self.minimumLabelled = minimumLabelled
        self.slices = slices
        self.guards = guards
        self.subtractsNoiseFloor = subtractsNoiseFloor
        self.evaluation = evaluation
        self.bounds = bounds
        self.requiresLabels = requiresLabels
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            version: try container.decode(String.self, forKey: .version),
            shipBelow: try container.decode(Double.self, forKey: .shipBelow),
            stayFP16Above: try container.decode(Double.self, forKey: .stayFP16Above),
            confidence: try container.decode(Double.self, forKey: .confidence),
            minimumSamples: try container.decode(Int.self, forKey: .minimumSamples),
            minimumLabelled: try container.decode(Int.self, forKey: .minimumLabelled),
            slices: try container.decodeIfPresent(SlicePolicy.self, forKey: .slices),
            guards: try container.decodeIfPresent(PolicyGuards.self, forKey: .guards),
            subtractsNoiseFloor: try container.decodeIfPresent(Bool.self, forKey: .subtractsNoiseFloor) ?? false,
            evaluation: try container.decodeIfPresent(EvaluationCadence.self, forKey: .evaluation),
            bounds: try container.decodeIfPresent(BoundMethod.self, forKey: .bounds) ?? .betting,
            requiresLabels: try container.decodeIfPresent(Bool.self, forKey: .requiresLabels) ?? false)
        try validate()
    }

    /// Throws the first value that makes the policy meaningless.
    public func validate() throws(PolicyError) {
        if version.trimmingCharacters(in: .whitespaces).isEmpty { throw .emptyVersion }
        guard shipBelow > 0 && shipBelow < 1 else { throw .thresholdOutOfRange(name: "ship-below", value: shipBelow) }
        guard stayFP16Above > 0 && stayFP16Above < 1 else {
            throw .thresholdOutOfRange(name: "stay-fp16-above", value: stayFP16Above)
        }
        guard shipBelow <= stayFP16Above else {
            throw .thresholdsOutOfOrder(shipBelow: shipBelow, stayFP16Above: stayFP16Above)
        }
        guard confidence > 0 && confidence < 1 else { throw .confidenceOutOfRange(confidence) }
        guard minimumSamples >= 1 else { throw .minimumNotPositive(name: "minimum-samples", value: minimumSamples) }
        guard minimumLabelled >= 1 else {
            throw .minimumNotPositive(name: "minimum-labelled", value: minimumLabelled)
        }
        if let slices {
            guard !slices.dimensions.isEmpty else { throw .noSliceDimensions }
            guard slices.minimumSamples >= 1 else {
                throw .minimumNotPositive(name: "slices.minimum-samples", value: slices.minimumSamples)
            }
        }
        let ratios = [
            ("guards.max-latency-ratio", guards?.maximumLatencyRatio),
            ("guards.max-memory-ratio", guards?.maximumMemoryRatio),
        ]
        for case let (name, ratio?) in ratios where !(ratio > 0 && ratio.isFinite) {
            throw .ratioNotPositive(name: name, value: ratio)
        }
        if let quantile = guards?.latencyQuantile, !(quantile > 0 && quantile < 1) {
            throw .quantileOutOfRange(name: "guards.latency-quantile", value: quantile)
        }
        if let evaluation {
            guard evaluation.everyWindows >= 1 else {
                throw .minimumNotPositive(name: "evaluation.every-windows", value: evaluation.everyWindows)
            }
            guard evaluation.everyMillis >= 1 else {
                throw .minimumNotPositive(name: "evaluation.every-ms", value: evaluation.everyMillis)
            }
        }
    }
}

/// The confidence sequences a policy bounds the drop with (`bounds:` in the policy file).
public enum BoundMethod: String, Sendable, Codable, CaseIterable {
    /// Betting confidence sequences (Waudby-Smith and Ramdas) on the paired difference and the rates:
    /// tighter, so decisions come sooner at the same confidence. The default.
    case betting
    /// Robbins' beta-binomial mixture on each rate, the labelled drop as the difference of two rates
    /// at alpha / 2 each: what every decision used before `bounds:` existed.
    case betaBinomial = "beta-binomial"
}

/// Why a policy was rejected.
public enum PolicyError: Error, Equatable, CustomStringConvertible, ConfigurationKeyError {
    case emptyVersion
    case thresholdOutOfRange(name: String, value: Double)
    case thresholdsOutOfOrder(shipBelow: Double, stayFP16Above: Double)
    case confidenceOutOfRange(Double)
    case minimumNotPositive(name: String, value: Int)
    case noSliceDimensions
    case ratioNotPositive(name: String, value: Double)
    case quantileOutOfRange(name: String, value: Double)

    /// The policy key the error is about.
    public var key: String? {
        switch self {
        case .emptyVersion: return "version"
        case .thresholdOutOfRange(let name, _), .minimumNotPositive(let name, _), .ratioNotPositive(let name, _),
            .quantileOutOfRange(let name, _):
            return name
        case .noSliceDimensions: return "slices.dimensions"
        case .thresholdsOutOfOrder: return "ship-below"
        case .confidenceOutOfRange: return "confidence"
        }
    }

    /// The description without its "policy: " prefix: in a file, the file and line say where.
    public var reason: String { String(description.dropFirst("policy: ".count)) }

    public var description: String {
        switch self {
        case .emptyVersion:
            return "policy: version is empty; every decision records it, so it must name this policy"
        case .thresholdOutOfRange(let name, let value):
            return "policy: \(name) is \(value); it is a fraction of accuracy and must be in (0, 1), e.g. 0.01 for 1 %"
        case .thresholdsOutOfOrder(let shipBelow, let stayFP16Above):
            return "policy: ship-below (\(shipBelow)) is above stay-fp16-above (\(stayFP16Above)); the ship threshold must be the lower one"
        case .confidenceOutOfRange(let confidence):
            return "policy: confidence is \(confidence); it must be in (0, 1), e.g. 0.95"
        case .minimumNotPositive(let name, let value):
            return "policy: \(name) is \(value); it must be at least 1"
        case .noSliceDimensions:
            return "policy: slices.dimensions is empty; list some of \(SliceDimension.allCases.map(\.rawValue)) or remove slices"
        case .ratioNotPositive(let name, let value):
            return "policy: \(name) is \(value); it is candidate / reference and must be a positive number, e.g. 1.0"
        case .quantileOutOfRange(let name, let value):
            return "policy: \(name) is \(value); it is a quantile and must be in (0, 1), e.g. 0.5 for the median"
        }
    }
}

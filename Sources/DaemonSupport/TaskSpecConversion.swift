import FleetProtocol
import ShadowEval

/// Task kinds as they travel in assignments.
extension TaskSpec {
    public init(_ kind: TaskKind) {
        self.init()
        switch kind {
        case .classification(let rule):
            self.kind = .classification
            maxProbabilityShift = rule.maximumProbabilityShift ?? 0
        case .regression(let rule):
            self.kind = .regression
            absoluteTolerance = rule.absolute
            relativeTolerance = rule.relative
        case .embedding(let rule):
            self.kind = .embedding
            minCosine = rule.minimumCosine
        case .detection(let rule):
            self.kind = .detection
            boxFormat = switch rule.boxFormat {
            case .yolo: .yolo
            case .yolox: .yolox
            case .xyxyScoreClass: .xyxyScoreClass
            }
            minIou = rule.minimumIoU
            minScore = rule.minimumScore
            if let nmsIoU = rule.nmsIoU { self.nmsIou = nmsIoU }
        case .ctc(let rule):
            self.kind = .ctc
            blankIndex = UInt32(rule.blankIndex)
            if let rate = rule.maximumCharacterErrorRate { maxCharacterErrorRate = rate }
            sequenceLayout = switch rule.sequenceLayout {
            case .auto: .auto
            case .batchFirst: .batchFirst
            case .timeFirst: .timeFirst
            }
        }
    }
}

extension TaskKind {
    /// The task an assignment names, checked like a registration (a zero probability shift means
    /// top-1 only, as proto3 cannot tell zero from absent; the later fields are `optional`, so an
    /// absent one takes the registration's default).
    public init(_ spec: TaskSpec) throws(RegistrationError) {
        switch spec.kind {
        case .classification:
            try self.init(
                name: "classification",
                parameters: spec.maxProbabilityShift > 0 ? ["max-probability-shift": "\(spec.maxProbabilityShift)"] : [:])
        case .regression:
            try self.init(
                name: "regression",
                parameters: ["absolute-tolerance": "\(spec.absoluteTolerance)", "relative-tolerance": "\(spec.relativeTolerance)"])
        case .embedding:
            try self.init(name: "embedding", parameters: ["min-cosine": "\(spec.minCosine)"])
        case .detection:
            var parameters: [String: String] = [:]
            if spec.hasBoxFormat { parameters["box-format"] = try Self.boxFormatName(spec.boxFormat) }
            if spec.hasMinIou { parameters["min-iou"] = "\(spec.minIou)" }
            if spec.hasMinScore { parameters["min-score"] = "\(spec.minScore)" }
            if spec.hasNmsIou { parameters["nms-iou"] = "\(spec.nmsIou)" }
            try self.init(name: "detection", parameters: parameters)
        case .ctc:
            var parameters: [String: String] = [:]
            if spec.hasBlankIndex { parameters["blank-index"] = "\(spec.blankIndex)" }
            if spec.hasMaxCharacterErrorRate { parameters["max-character-error-rate"] = "\(spec.maxCharacterErrorRate)" }
            if spec.hasSequenceLayout { parameters["sequence-layout"] = try Self.sequenceLayoutName(spec.sequenceLayout) }
            try self.init(name: "ctc", parameters: parameters)
        case .UNRECOGNIZED(let value):
            throw .unknownKind("wire kind \(value)")
        }
    }

    private static func boxFormatName(_ format: TaskSpec.BoxFormat) throws(RegistrationError) -> String {
        switch format {
        case .yolo: DetectionMatching.BoxFormat.yolo.rawValue
        case .yolox: DetectionMatching.BoxFormat.yolox.rawValue
        case .xyxyScoreClass: DetectionMatching.BoxFormat.xyxyScoreClass.rawValue
        case .unspecified, .UNRECOGNIZED: throw .invalidParameter(name: "box-format", value: "wire value \(format.rawValue)", expected: "a known format")
        }
    }

    private static func sequenceLayoutName(_ layout: TaskSpec.SequenceLayout) throws(RegistrationError) -> String {
        switch layout {
        case .auto: CTCTextDifference.SequenceLayout.auto.rawValue
        case .batchFirst: CTCTextDifference.SequenceLayout.batchFirst.rawValue
        case .timeFirst: CTCTextDifference.SequenceLayout.timeFirst.rawValue
        case .UNRECOGNIZED: throw .invalidParameter(name: "sequence-layout", value: "wire value \(layout.rawValue)", expected: "a known layout")
        }
    }
}

import FleetProtocol
import Foundation
import ShadowEval

/// Shadow windows as the agent aggregates them (ShadowEval) and as they travel (FleetProtocol).
extension ShadowWindow {
    /// The window with its class breakdown.
    public init(_ aggregate: WindowAggregate, assignmentID: String, sequence: UInt64, kernelPath: String) {
        self.init(aggregate.summary, assignmentID: assignmentID, sequence: sequence, kernelPath: kernelPath)
        floorSamples = UInt32(aggregate.noiseFloor.samples)
        floorAgreements = UInt32(aggregate.noiseFloor.agreements)
        marginFlips = UInt32(aggregate.marginFlips)
        top5SharedClasses = UInt32(aggregate.topFiveSharedClasses)
        neighbourSamples = UInt32(aggregate.neighbours.samples)
        neighbourAgreements = UInt32(aggregate.neighbours.agreements)
        sketches = (try? JSONEncoder().encode(aggregate.sketches)) ?? Data()
        classes = Set(aggregate.agreementByReferenceClass.keys).union(aggregate.labelsByClass.keys).sorted().map { index in
            let agreement = aggregate.agreementByReferenceClass[index] ?? AgreementCounts()
            let labels = aggregate.labelsByClass[index] ?? PairedOutcomes()
            return ClassSlice.with {
                $0.classIndex = UInt32(index)
                $0.samples = UInt32(agreement.samples)
                $0.agreements = UInt32(agreement.agreements)
                $0.bothRight = UInt32(labels.bothRight)
                $0.referenceOnlyRight = UInt32(labels.onlyReferenceRight)
                $0.candidateOnlyRight = UInt32(labels.onlyCandidateRight)
                $0.bothWrong = UInt32(labels.bothWrong)
            }
        }
    }

    public init(_ summary: WindowSummary, assignmentID: String, sequence: UInt64, kernelPath: String) {
        self.init()
        self.assignmentID = assignmentID
        self.sequence = sequence
        self.kernelPath = kernelPath
        startedAtMs = UInt64(summary.startedAtMillis)
        endedAtMs = UInt64(summary.endedAtMillis)
        count = UInt32(summary.count)
        top1Agreements = UInt32(summary.top1Agreements)
        klDivergenceSum = summary.klDivergenceSum
        maxAbsDiff = summary.maxAbsDiff
        labelled = UInt32(summary.labelled)
        referenceCorrect = UInt32(summary.referenceCorrect)
        candidateCorrect = UInt32(summary.candidateCorrect)
        referenceOnlyCorrect = UInt32(summary.referenceOnlyCorrect)
        candidateOnlyCorrect = UInt32(summary.candidateOnlyCorrect)
        referenceLatencyUsSum = UInt64(summary.referenceLatencyMicrosSum)
        candidateLatencyUsSum = UInt64(summary.candidateLatencyMicrosSum)
        shadowDrops = UInt32(summary.shadowDrops)
    }
}

extension WindowSummary {
    public init(_ window: ShadowWindow) {
        self.init(
            count: Int(window.count), top1Agreements: Int(window.top1Agreements),
            klDivergenceSum: window.klDivergenceSum, maxAbsDiff: window.maxAbsDiff,
            labelled: Int(window.labelled), referenceCorrect: Int(window.referenceCorrect),
            candidateCorrect: Int(window.candidateCorrect), referenceOnlyCorrect: Int(window.referenceOnlyCorrect),
            candidateOnlyCorrect: Int(window.candidateOnlyCorrect),
            referenceLatencyMicrosSum: Int(window.referenceLatencyUsSum),
            candidateLatencyMicrosSum: Int(window.candidateLatencyUsSum), shadowDrops: Int(window.shadowDrops),
            startedAtMillis: Int64(window.startedAtMs), endedAtMillis: Int64(window.endedAtMs))
    }
}

extension ShadowWindow {
    /// The class breakdown as ShadowEval counts it.
    public var agreementByClass: [Int: AgreementCounts] {
        Dictionary(uniqueKeysWithValues: classes.filter { $0.samples > 0 }.map {
            (Int($0.classIndex), AgreementCounts(samples: Int($0.samples), agreements: Int($0.agreements)))
        })
    }

    public var labelsByClass: [Int: PairedOutcomes] {
        Dictionary(uniqueKeysWithValues: classes.filter { $0.bothRight + $0.referenceOnlyRight + $0.candidateOnlyRight + $0.bothWrong > 0 }.map {
            (Int($0.classIndex), PairedOutcomes(
                bothRight: Int($0.bothRight), onlyReferenceRight: Int($0.referenceOnlyRight),
                onlyCandidateRight: Int($0.candidateOnlyRight), bothWrong: Int($0.bothWrong)))
        })
    }
}

extension ShadowWindow {
    /// The window's measures beside the counts, as the ledger keeps them; a window without sketches
    /// (or with sketches that do not decode) keeps none.
    public var measures: WindowMeasures {
        WindowMeasures(
            marginFlips: Int(marginFlips), topFiveSharedClasses: Int(top5SharedClasses),
            neighbours: AgreementCounts(samples: Int(neighbourSamples), agreements: Int(neighbourAgreements)),
            sketches: sketches.isEmpty ? nil : try? JSONDecoder().decode(WindowSketches.self, from: sketches))
    }
}

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

extension WindowAggregate {
    /// The aggregate a window was made from, as far as the wire carries it: counts, sums, the
    /// maximum, the class breakdown and the sketches, so windows merge exactly through it (the
    /// agent's spool merges its oldest unsent windows this way when it is full). The KL sum goes
    /// back to the integer units it was summed in.
    public init(_ window: ShadowWindow) {
        self.init()
        agreement = AgreementCounts(samples: Int(window.count), agreements: Int(window.top1Agreements))
        klDivergenceSumUnits = Int64((window.klDivergenceSum / Self.klDivergenceUnit).rounded())
        maxAbsDiff = window.maxAbsDiff
        let bothRight = Int(window.referenceCorrect) - Int(window.referenceOnlyCorrect)
        labels = PairedOutcomes(
            bothRight: bothRight, onlyReferenceRight: Int(window.referenceOnlyCorrect),
            onlyCandidateRight: Int(window.candidateOnlyCorrect),
            bothWrong: Int(window.labelled) - bothRight - Int(window.referenceOnlyCorrect) - Int(window.candidateOnlyCorrect))
        labelsByClass = window.labelsByClass
        agreementByReferenceClass = window.agreementByClass
        referenceLatencyMicrosSum = Int(window.referenceLatencyUsSum)
        candidateLatencyMicrosSum = Int(window.candidateLatencyUsSum)
        if let sketches = window.measures.sketches {
            klDivergences = sketches.klDivergences
            maxAbsDiffs = sketches.maxAbsDiffs
            referenceLatencyMicros = sketches.referenceLatencyMicros
            candidateLatencyMicros = sketches.candidateLatencyMicros
            latencyRatios = sketches.latencyRatios
        }
        shadowDrops = Int(window.shadowDrops)
        noiseFloor = AgreementCounts(samples: Int(window.floorSamples), agreements: Int(window.floorAgreements))
        marginFlips = Int(window.marginFlips)
        topFiveSharedClasses = Int(window.top5SharedClasses)
        neighbours = AgreementCounts(samples: Int(window.neighbourSamples), agreements: Int(window.neighbourAgreements))
        startedAtMillis = Int64(window.startedAtMs)
        endedAtMillis = Int64(window.endedAtMs)
    }
}

extension ShadowWindow {
    /// `windows` (of one assignment and kernel path, oldest first) as one window under the first's
    /// sequence number: every count and sum added, the class breakdown and sketches merged, the
    /// largest maximum and memory figures kept, and the span from the first start to the last end.
    public static func merging(_ windows: [ShadowWindow]) -> ShadowWindow {
        precondition(!windows.isEmpty, "merging no windows")
        let first = windows[0]
        precondition(windows.allSatisfy { $0.assignmentID == first.assignmentID && $0.kernelPath == first.kernelPath },
                     "windows of one assignment and kernel path merge")
        var merged = ShadowWindow(
            WindowAggregate.merged(windows.map(WindowAggregate.init)), assignmentID: first.assignmentID,
            sequence: first.sequence, kernelPath: first.kernelPath)
        merged.referenceMemoryBytes = windows.map(\.referenceMemoryBytes).max()!
        merged.candidateMemoryBytes = windows.map(\.candidateMemoryBytes).max()!
        return merged
    }
}

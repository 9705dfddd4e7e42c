import ShadowEval

extension WindowRecord {
    /// What this window adds to its stage's running totals, counted exactly as the SQL re-sum
    /// (`WindowResum`) counts the stored rows: the whole window in its kernel-path slice and, when its
    /// agent has one, its device-class slice; each class row in its class slice.
    func runningTotals(deviceClass: String?) -> RunningTotals {
        let whole = EvidenceTotals(
            windows: 1, samples: summary.count, disagreements: summary.count - summary.top1Agreements,
            labelled: summary.labelled, referenceCorrect: summary.referenceCorrect, candidateCorrect: summary.candidateCorrect,
            referenceOnlyCorrect: summary.referenceOnlyCorrect, candidateOnlyCorrect: summary.candidateOnlyCorrect,
            floorSamples: floor.samples, floorDisagreements: floor.disagreements)
        var slices = [SliceKey(.kernelPath, kernelPath): whole]
        if let deviceClass { slices[SliceKey(.deviceClass, deviceClass)] = whole }
        for index in classIndices {
            var row = EvidenceTotals(
                agreement: agreementByClass[index] ?? AgreementCounts(), labels: labelsByClass[index] ?? PairedOutcomes())
            row.windows = 1
            slices[SliceKey(.class, String(index))] = row
        }
        return RunningTotals(
            overall: whole, slices: slices,
            cost: CostTotals(
                referenceLatencyMicrosSum: summary.referenceLatencyMicrosSum, candidateLatencyMicrosSum: summary.candidateLatencyMicrosSum,
                referenceMemoryBytes: referenceMemoryBytes, candidateMemoryBytes: candidateMemoryBytes),
            measures: measures)
    }

    /// The classes the window has a class row for: those with agreement or labelled counts.
    var classIndices: [Int] {
        Set(agreementByClass.keys).union(labelsByClass.keys).sorted()
    }
}

import ShadowEval

extension WindowRecord {
    /// What this window adds to its stage's running totals, counted exactly as the SQL re-sum
    /// (`WindowResum`) counts the stored rows.
    func runningTotals(deviceClass: String?) -> RunningTotals {
        var whole = EvidenceTotals(window: summary, floor: floor)
        whole.windows = windowsCounted
        let classes = classIndices.map { index in
            (index, agreementByClass[index] ?? AgreementCounts(), labelsByClass[index] ?? PairedOutcomes())
        }
        var totals = RunningTotals.window(whole: whole, kernelPath: kernelPath, deviceClass: deviceClass, classes: classes)
        totals.cost = CostTotals(
            referenceLatencyMicrosSum: summary.referenceLatencyMicrosSum, candidateLatencyMicrosSum: summary.candidateLatencyMicrosSum,
            referenceMemoryBytes: referenceMemoryBytes, candidateMemoryBytes: candidateMemoryBytes)
        totals.measures = measures
        return totals
    }

    /// The classes the window has a class row for: those with agreement or labelled counts.
    var classIndices: [Int] {
        Set(agreementByClass.keys).union(labelsByClass.keys).sorted()
    }
}

extension RunningTotals {
    /// One window's evidence in its slices: the whole window in its kernel-path slice and, when its
    /// agent has one, its device-class slice; each class row in its class slice. Ingest and the replay
    /// of stored windows (`WindowReplay`) both cut windows here, so they cannot disagree.
    static func window(
        whole: EvidenceTotals, kernelPath: String, deviceClass: String?,
        classes: [(index: Int, agreement: AgreementCounts, labels: PairedOutcomes)]
    ) -> RunningTotals {
        var slices = [SliceKey(.kernelPath, kernelPath): whole]
        if let deviceClass { slices[SliceKey(.deviceClass, deviceClass)] = whole }
        for (index, agreement, labels) in classes {
            var row = EvidenceTotals(agreement: agreement, labels: labels)
            // A class row counts as its window does: once, or not at all for a late-label delta.
            row.windows = whole.windows
            slices[SliceKey(.class, String(index))] = row
        }
        return RunningTotals(overall: whole, slices: slices)
    }
}

import ShadowEval

/// A rollout's measures in one line: latency and error quantiles from the merged sketches, margin
/// flips and top-5 overlap for classifiers, nearest-neighbour agreement for embeddings.
enum MeasuresLine {
    static func render(samples: Int, _ measures: WindowMeasures) -> [String] {
        var lines: [String] = []
        if let sketches = measures.sketches {
            func milliseconds(_ sketch: LogHistogram) -> String {
                let p50 = sketch.quantile(0.5).map { String(format: "%.2f", $0 / 1000) } ?? "-"
                let p99 = sketch.quantile(0.99).map { String(format: "%.2f", $0 / 1000) } ?? "-"
                return "\(p50)/\(p99) ms"
            }
            lines.append("latency p50/p99 reference \(milliseconds(sketches.referenceLatencyMicros)), "
                + "candidate \(milliseconds(sketches.candidateLatencyMicros))")
            if let median = sketches.latencyRatios.quantile(0.5), let p99 = sketches.latencyRatios.quantile(0.99) {
                lines.append("latency ratio per request p50/p99 " + String(format: "%.2fx/%.2fx", median, p99))
            }
            let kl = sketches.klDivergences.quantile(0.99), difference = sketches.maxAbsDiffs.quantile(0.99)
            // Detection and CTC compare decoded boxes and texts, so they record no value errors.
            if kl != nil || difference != nil {
                lines.append("errors p99 KL \(kl.map { String(format: "%.4f", $0) } ?? "-") nats, "
                    + "max |reference - candidate| \(difference.map { String(format: "%.4f", $0) } ?? "-")")
            }
        }
        if samples > 0, measures.topFiveSharedClasses > 0 {
            lines.append("classes  margin flips \(Percent(Double(measures.marginFlips) / Double(samples))), "
                + "top-5 overlap \(Percent(Double(measures.topFiveSharedClasses) / Double(5 * samples)))")
        }
        if measures.neighbours.samples > 0 {
            lines.append("neighbours  same nearest neighbour in \(Percent(Double(measures.neighbours.agreements) / Double(measures.neighbours.samples))) "
                + "of \(measures.neighbours.samples) samples")
        }
        return lines
    }
}

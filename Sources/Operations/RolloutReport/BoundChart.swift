import Foundation
import Ledger
import ShadowEval

/// One stage's evidence as an inline SVG: the drop's point estimate after each evaluation, its
/// confidence bounds as a shaded band narrowing as n grows, over the policy's shaded bands, with the
/// last evaluation marked and named. No script and no external resource: the page stays one file.
public struct BoundChart: Sendable {
    public var series: BoundSeries
    public var bands: PolicyBands
    public var title: String
    /// Unique within the page: SVG ids (the clip path) are document-wide.
    public var identifier: String

    /// Beyond this many evaluations, markers are thinned (the lines keep every point) so a long
    /// rollout stays a readable chart and a small file.
    public static let maximumMarkers = 150

    public init(series: BoundSeries, bands: PolicyBands, title: String, identifier: String) {
        self.series = series
        self.bands = bands
        self.title = title
        self.identifier = identifier
    }

    // Layout in SVG user units; the SVG scales to the page width through its viewBox.
    static let width = 960.0
    static let height = 400.0
    private static let plotLeft = 72.0
    private static let plotRight = 800.0
    private static let plotTop = 64.0
    private static let plotBottom = 340.0

    public var svg: String {
        let decisions = series.decisions.map(\.decision)
        let x = xScale(decisions)
        let y = yScale(decisions)
        let confidence = decisions.last.map { ReportFormat.percent($0.confidence, digits: 0) } ?? "confidence"
        var parts: [String] = []
        parts.append("""
            <svg class="bound-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Self.width) \(Self.height)" \
            role="img" aria-labelledby="\(identifier)-title" data-stage="\(series.stage.map(String.init) ?? "none")" \
            data-metric="\(HTMLText.escape(series.metric))" data-decisions="\(decisions.count)">
            <title id="\(identifier)-title">\(HTMLText.escape(title)): \(HTMLText.escape(metricLabel)) and its \(confidence) bounds against n</title>
            <defs><clipPath id="\(identifier)-plot"><rect x="\(Self.plotLeft)" y="\(Self.plotTop)" \
            width="\(Self.plotRight - Self.plotLeft)" height="\(Self.plotBottom - Self.plotTop)"/></clipPath></defs>
            """)
        parts.append(policyBands(y))
        parts.append(grid(x, y))
        parts.append("<g clip-path=\"url(#\(identifier)-plot)\">")
        parts.append(boundBand(decisions, x, y))
        parts.append(statisticLine(decisions, x, y))
        parts.append(markers(x, y))
        parts.append("</g>")
        parts.append(finalDecision(decisions, x, y))
        parts.append(axisLabels)
        parts.append(legend(confidence: confidence))
        if isClipped(decisions, y) {
            parts.append(text("bounds beyond the axis are cut off", x: Self.plotLeft + 6, y: Self.plotTop + 14, className: "note"))
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    // MARK: scales

    private func xScale(_ decisions: [Decision]) -> LinearScale {
        LinearScale(covering: 0...Double(max(decisions.map(\.n).max() ?? 1, 1)), from: Self.plotLeft, to: Self.plotRight, integral: true)
    }

    /// Shows every band and the bounds, but not the first evaluations' very wide bounds in full:
    /// they would squeeze the part where the decision is made into a few pixels.
    private func yScale(_ decisions: [Decision]) -> LinearScale {
        let ceiling = max(bands.stayFP16Above * 4, 0.05)
        let top = min(max(decisions.map(\.upperBound).max() ?? 0, bands.stayFP16Above * 1.5), ceiling)
        let bottom = max(min(decisions.map(\.lowerBound).min() ?? 0, 0), -ceiling / 2)
        return LinearScale(covering: bottom...top, from: Self.plotBottom, to: Self.plotTop, tickCount: 8)
    }

    private func isClipped(_ decisions: [Decision], _ y: LinearScale) -> Bool {
        decisions.contains { $0.upperBound > y.domain.upperBound || $0.lowerBound < y.domain.lowerBound }
    }

    // MARK: layers, back to front

    private func policyBands(_ y: LinearScale) -> String {
        let regions: [(className: String, label: String, from: Double, to: Double)] = [
            ("band-ship", "ship  < \(ReportFormat.threshold(bands.shipBelow))", y.domain.lowerBound, bands.shipBelow),
            ("band-needs-qat", "needs-qat  \(ReportFormat.threshold(bands.shipBelow))–\(ReportFormat.threshold(bands.stayFP16Above))",
             bands.shipBelow, bands.stayFP16Above),
            ("band-stay-fp16", "stay-fp16  > \(ReportFormat.threshold(bands.stayFP16Above))", bands.stayFP16Above, y.domain.upperBound),
        ]
        var shapes: [String] = []
        for region in regions {
            let low = min(max(region.from, y.domain.lowerBound), y.domain.upperBound)
            let high = min(max(region.to, y.domain.lowerBound), y.domain.upperBound)
            guard high > low else { continue }
            let top = y.position(high)
            let bottom = y.position(low)
            shapes.append("<rect class=\"policy-band \(region.className)\" x=\"\(Self.plotLeft)\" y=\(quoted(top)) "
                + "width=\"\(Self.plotRight - Self.plotLeft)\" height=\(quoted(bottom - top))/>")
            shapes.append(text(region.label, x: Self.plotRight + 10, y: (top + bottom) / 2 + 4, className: "band-label \(region.className)-label"))
        }
        for threshold in [bands.shipBelow, bands.stayFP16Above] where y.domain.contains(threshold) {
            let position = y.position(threshold)
            shapes.append("<line class=\"threshold\" x1=\"\(Self.plotLeft)\" x2=\"\(Self.plotRight)\" y1=\(quoted(position)) y2=\(quoted(position))/>")
        }
        return "<g class=\"policy-bands\">\n" + shapes.joined(separator: "\n") + "\n</g>"
    }

    private func grid(_ x: LinearScale, _ y: LinearScale) -> String {
        var lines: [String] = []
        for tick in y.ticks {
            let position = y.position(tick)
            lines.append("<line class=\"gridline\" x1=\"\(Self.plotLeft)\" x2=\"\(Self.plotRight)\" y1=\(quoted(position)) y2=\(quoted(position))/>")
            lines.append(text(ReportFormat.threshold(tick), x: Self.plotLeft - 8, y: position + 4, className: "tick tick-y"))
        }
        for tick in x.ticks {
            let position = x.position(tick)
            lines.append("<line class=\"gridline\" x1=\(quoted(position)) x2=\(quoted(position)) y1=\"\(Self.plotTop)\" y2=\"\(Self.plotBottom)\"/>")
            lines.append(text(ReportFormat.count(Int(tick)), x: position, y: Self.plotBottom + 18, className: "tick tick-x"))
        }
        lines.append("<rect class=\"plot-frame\" x=\"\(Self.plotLeft)\" y=\"\(Self.plotTop)\" "
            + "width=\"\(Self.plotRight - Self.plotLeft)\" height=\"\(Self.plotBottom - Self.plotTop)\"/>")
        return "<g class=\"grid\">\n" + lines.joined(separator: "\n") + "\n</g>"
    }

    /// The area between lower and upper bound: along the lower bound, then back along the upper.
    private func boundBand(_ decisions: [Decision], _ x: LinearScale, _ y: LinearScale) -> String {
        guard !decisions.isEmpty else { return "" }
        let lower = decisions.map { (x.position(Double($0.n)), y.position($0.lowerBound)) }
        let upper = decisions.map { (x.position(Double($0.n)), y.position($0.upperBound)) }
        return """
            <path class="bound-band" d="\(path(lower + upper.reversed()))Z"/>
            <path class="bound-line bound-upper" d="\(path(upper))"/>
            <path class="bound-line bound-lower" d="\(path(lower))"/>
            """
    }

    private func statisticLine(_ decisions: [Decision], _ x: LinearScale, _ y: LinearScale) -> String {
        guard !decisions.isEmpty else { return "" }
        return "<path class=\"statistic-line\" d=\"\(path(decisions.map { (x.position(Double($0.n)), y.position($0.statistic)) }))\"/>"
    }

    private func markers(_ x: LinearScale, _ y: LinearScale) -> String {
        markerIndices.map { index in
            let record = series.decisions[index]
            let decision = record.decision
            return "<circle class=\"decision-point\" cx=\(quoted(x.position(Double(decision.n)))) cy=\(quoted(y.position(decision.statistic))) r=\"3\">"
                + "<title>\(HTMLText.escape(describe(record)))</title></circle>"
        }.joined(separator: "\n")
    }

    /// Every evaluation up to `maximumMarkers`; beyond, evenly spaced ones, always with the last.
    var markerIndices: [Int] {
        let count = series.decisions.count
        guard count > Self.maximumMarkers else { return Array(0..<count) }
        let stride = Double(count - 1) / Double(Self.maximumMarkers - 1)
        return (0..<Self.maximumMarkers).map { Int((Double($0) * stride).rounded()) }
    }

    /// The latest evaluation: its interval as a bar and its outcome in words, outside the clip so
    /// the label stays readable even when the bounds run off the axis.
    private func finalDecision(_ decisions: [Decision], _ x: LinearScale, _ y: LinearScale) -> String {
        guard let last = decisions.last else {
            return text("no evaluation recorded", x: (Self.plotLeft + Self.plotRight) / 2, y: (Self.plotTop + Self.plotBottom) / 2, className: "empty")
        }
        let clamp = { (value: Double) in min(max(value, Self.plotTop), Self.plotBottom) }
        let px = x.position(Double(last.n))
        let upper = clamp(y.position(last.upperBound))
        let lower = clamp(y.position(last.lowerBound))
        let label = "\(last.outcome.rawValue) at n = \(ReportFormat.count(last.n))"
        return """
            <g class="final-decision outcome-\(last.outcome.rawValue)">
            <line class="final-bounds" x1=\(quoted(px)) x2=\(quoted(px)) y1=\(quoted(upper)) y2=\(quoted(lower))/>
            <line class="final-bounds" x1=\(quoted(px - 6)) x2=\(quoted(px + 6)) y1=\(quoted(upper)) y2=\(quoted(upper))/>
            <line class="final-bounds" x1=\(quoted(px - 6)) x2=\(quoted(px + 6)) y1=\(quoted(lower)) y2=\(quoted(lower))/>
            <circle class="final-point" cx=\(quoted(px)) cy=\(quoted(clamp(y.position(last.statistic)))) r="6"/>
            \(text(label, x: px - 10, y: max(upper - 10, Self.plotTop + 14), className: "final-label", anchor: "end"))
            </g>
            """
    }

    private var axisLabels: String {
        let middleY = (Self.plotTop + Self.plotBottom) / 2
        return """
            \(text(xAxisLabel, x: (Self.plotLeft + Self.plotRight) / 2, y: Self.plotBottom + 44, className: "axis-label"))
            <text class="axis-label" x="18" y=\(quoted(middleY)) transform="rotate(-90 18 \(format(middleY)))" text-anchor="middle">\(HTMLText.escape(metricLabel + " (%)"))</text>
            """
    }

    /// Two rows: what the data marks mean, then the policy's bands.
    private func legend(confidence: String) -> String {
        // Swatches carry `legend-swatch` first in their class, so they are not mistaken for data.
        let marks: [(swatch: String, label: String)] = [
            ("<line class=\"legend-swatch statistic-line\" x1=\"0\" x2=\"22\" y1=\"0\" y2=\"0\"/>", "\(metricLabel) (estimate)"),
            ("<rect class=\"legend-swatch bound-band\" x=\"0\" y=\"-6\" width=\"22\" height=\"12\"/>", "\(confidence) confidence bounds"),
            ("<circle class=\"legend-swatch decision-point\" cx=\"11\" cy=\"0\" r=\"3\"/>", "an evaluation"),
            ("<circle class=\"legend-swatch final-point\" cx=\"11\" cy=\"0\" r=\"5\"/>", "latest evaluation and its bounds"),
        ]
        let policy: [(swatch: String, label: String)] = [
            ("<rect class=\"legend-swatch policy-band band-ship\" x=\"0\" y=\"-6\" width=\"22\" height=\"12\"/>",
             "ship: upper bound below \(ReportFormat.threshold(bands.shipBelow))"),
            ("<rect class=\"legend-swatch policy-band band-needs-qat\" x=\"0\" y=\"-6\" width=\"22\" height=\"12\"/>",
             "needs-qat: bounds inside \(ReportFormat.threshold(bands.shipBelow))–\(ReportFormat.threshold(bands.stayFP16Above))"),
            ("<rect class=\"legend-swatch policy-band band-stay-fp16\" x=\"0\" y=\"-6\" width=\"22\" height=\"12\"/>",
             "stay-fp16: lower bound above \(ReportFormat.threshold(bands.stayFP16Above))"),
        ]
        var entries: [String] = []
        for (row, items) in [marks, policy].enumerated() {
            var offset = Self.plotLeft
            for item in items {
                entries.append("<g transform=\"translate(\(format(offset)) \(18 + 22 * row))\">\(item.swatch)"
                    + "\(text(item.label, x: 28, y: 4, className: "legend-label", anchor: "start"))</g>")
                // An estimate of the label's width at 12 px; SVG cannot measure text without script.
                offset += 28 + Double(item.label.count) * 6.4 + 22
            }
        }
        return "<g class=\"legend\">\n" + entries.joined(separator: "\n") + "\n</g>"
    }

    // MARK: words

    var metricLabel: String {
        switch DecisionMetric(rawValue: series.metric) {
        case .labelledAccuracyDrop: return "accuracy drop"
        case .disagreement: return "disagreement"
        case .excessDisagreement: return "disagreement above the noise floor"
        case nil: return series.metric
        }
    }

    private var xAxisLabel: String {
        switch DecisionMetric(rawValue: series.metric) {
        case .labelledAccuracyDrop: return "labelled samples n"
        case .disagreement, .excessDisagreement, nil: return "paired samples n"
        }
    }

    private func describe(_ record: DecisionRecord) -> String {
        let decision = record.decision
        return "n = \(ReportFormat.count(decision.n)): \(metricLabel) \(ReportFormat.percent(decision.statistic)), "
            + "bounds [\(ReportFormat.percent(decision.lowerBound)), \(ReportFormat.percent(decision.upperBound))], "
            + "\(decision.outcome.rawValue) (\(ReportFormat.time(record.decidedAt)))"
    }

    // MARK: SVG text

    private func text(_ content: String, x: Double, y: Double, className: String, anchor: String? = nil) -> String {
        let anchorAttribute = anchor.map { " text-anchor=\"\($0)\"" } ?? ""
        return "<text class=\"\(className)\" x=\(quoted(x)) y=\(quoted(y))\(anchorAttribute)>\(HTMLText.escape(content))</text>"
    }

    private func path(_ points: [(Double, Double)]) -> String {
        points.enumerated().map { index, point in (index == 0 ? "M" : "L") + "\(format(point.0)),\(format(point.1))" }.joined(separator: " ")
    }

    private func quoted(_ value: Double) -> String { "\"" + format(value) + "\"" }

    private func format(_ value: Double) -> String { String(format: "%.1f", value) }
}

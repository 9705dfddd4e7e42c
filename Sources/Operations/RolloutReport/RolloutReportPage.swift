import Foundation
import Ledger
import ShadowEval

/// The rollout report as one self-contained HTML file: inline CSS and SVG, no script, no external
/// resource, so it can be mailed, attached to a ticket or opened on an air-gapped machine.
public struct RolloutReportPage: Sendable {
    public var data: RolloutReportData
    public var generatedAt: Date

    public init(data: RolloutReportData, generatedAt: Date = Date()) {
        self.data = data
        self.generatedAt = generatedAt
    }

    /// One chart per stage (and per metric, when a stage's evidence changed metric), in order.
    public var charts: [BoundChart] {
        data.series.enumerated().map { index, series in
            let metricNote = data.series.filter { $0.stage == series.stage }.count > 1 ? " — \(series.metric)" : ""
            return BoundChart(
                series: series, bands: data.bands, title: data.title(ofStage: series.stage) + metricNote, identifier: "chart-\(index)")
        }
    }

    public var html: String {
        let words = DecisionInWords(data: data)
        let rollout = data.rollout
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Rollout \(e(rollout.id)) — \(e(rollout.modelName)): \(e(words.headline))</title>
            <style>\(Self.stylesheet)</style>
            </head>
            <body>
            <header>
            <h1>Rollout <code>\(e(rollout.id))</code> of \(e(rollout.modelName))</h1>
            <p class="subtitle">How the confidence bound of the accuracy drop narrowed as evidence came in, against the policy's bands.</p>
            </header>
            <section class="verdict \(words.outcomeClass)" id="decision">
            <h2>Decision: <span class="decision-word">\(e(words.headline))</span></h2>
            <p class="decision-text">\(e(words.explanation))</p>
            <p class="standing">\(e(words.standing))</p>
            </section>
            \(facts)
            <section id="charts">
            <h2>Confidence bound against n</h2>
            <p class="how-to-read">Each point is one evaluation the coordinator recorded (after a stored window). The dark line is the \
            estimate, the blue band its confidence bounds, valid however often they are looked at. The policy decides once the band \
            fits inside one shaded region: green ships, amber needs quantization-aware training, red keeps FP16.</p>
            \(chartSections)
            </section>
            \(eventsSection)
            \(evidenceSection)
            <footer>Made by <code>quantfleet rollout report</code> from <code>\(e(data.ledgerPath))</code> at \(e(ReportFormat.time(generatedAt))).</footer>
            </body>
            </html>

            """
    }

    // MARK: sections

    private var facts: String {
        let rollout = data.rollout
        var rows: [(String, String)] = [
            ("model", rollout.modelName),
            ("reference (FP16)", rollout.referenceSHA256),
            ("candidate", rollout.candidateSHA256),
            ("materially different", data.task),
            ("policy version", data.policyVersions.joined(separator: ", ")),
            ("policy bands", data.bands.provenance),
            ("sampling", "\(ReportFormat.threshold(rollout.samplingRate)) of requests, windows of \(ReportFormat.count(rollout.windowSize)) samples"),
            ("created", ReportFormat.time(rollout.createdAt)),
        ]
        if let plan = data.plan {
            let target = plan.target.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            rows.append(("stages", plan.stages.map { "\($0) %" }.joined(separator: " → ") + " of " + (target.isEmpty ? "every agent" : target)))
            rows.append(("created by", plan.createdBy))
        }
        if let decidedAt = rollout.decidedAt { rows.append(("closed", ReportFormat.time(decidedAt))) }
        if let latest = data.latestDecision {
            rows.append(("evaluations", "\(ReportFormat.count(data.series.reduce(0) { $0 + $1.decisions.count })), the latest at \(ReportFormat.time(latest.decidedAt))"))
        }
        let body = rows.map { "<tr><th scope=\"row\">\(e($0.0))</th><td>\(e($0.1))</td></tr>" }.joined(separator: "\n")
        return "<section id=\"facts\">\n<table class=\"facts\">\n\(body)\n</table>\n</section>"
    }

    private var chartSections: String {
        guard !data.series.isEmpty else { return "<p class=\"empty\">No evaluation recorded yet: nothing to draw.</p>" }
        return zip(charts, data.series).map { chart, series in
            let last = series.decisions.last!.decision  // a series is made from at least one decision
            let summary = "latest: \(last.outcome.rawValue), n = \(ReportFormat.count(last.n)), "
                + "\(chart.metricLabel) \(ReportFormat.percent(last.statistic)), "
                + "\(ReportFormat.percent(last.confidence, digits: 0)) bounds [\(ReportFormat.percent(last.lowerBound)), "
                + "\(ReportFormat.percent(last.upperBound))], policy \(last.policyVersion), \(ReportFormat.count(series.decisions.count)) evaluations"
            return """
                <figure class="chart" id="\(chart.identifier)">
                <figcaption><h3>\(e(chart.title))</h3><p class="chart-summary">\(e(summary))</p></figcaption>
                \(chart.svg)
                </figure>
                """
        }.joined(separator: "\n")
    }

    private var eventsSection: String {
        guard !data.events.isEmpty else {
            return "<section id=\"events\"><h2>Who did what</h2><p class=\"empty\">No recorded actions (a rollout opened from the coordinator's configuration has none).</p></section>"
        }
        let rows = data.events.map { event in
            [ReportFormat.time(event.at), event.actor, event.action, event.stage.map { "\($0 + 1)" } ?? "–", event.reason]
        }
        return "<section id=\"events\"><h2>Who did what</h2>\n"
            + table(columns: ["at", "who", "action", "stage", "why"], rows: rows, className: "events") + "\n</section>"
    }

    private var evidenceSection: String {
        guard !data.evidence.isEmpty else {
            return "<section id=\"evidence\"><h2>Evidence per agent</h2><p class=\"empty\">No windows stored yet.</p></section>"
        }
        let optionalPercent = { (value: Double?) in value.map { ReportFormat.percent($0) } ?? "–" }
        var rows = data.evidence.map { row in
            [
                data.plan == nil ? "–" : "\(row.stage + 1)", row.agentID,
                row.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "),
                row.kernelPath, ReportFormat.count(row.windows), ReportFormat.count(row.samples), optionalPercent(row.disagreementRate),
                ReportFormat.count(row.labelled), optionalPercent(row.referenceAccuracy), optionalPercent(row.candidateAccuracy),
                row.meanKL.map { String(format: "%.4f", $0) } ?? "–",
            ]
        }
        let samples = data.evidence.reduce(0) { $0 + $1.samples }
        let disagreements = data.evidence.reduce(0.0) { $0 + ($1.disagreementRate ?? 0) * Double($1.samples) }
        rows.append([
            "all", "", "", "", ReportFormat.count(data.evidence.reduce(0) { $0 + $1.windows }), ReportFormat.count(samples),
            samples > 0 ? ReportFormat.percent(disagreements / Double(samples)) : "–",
            ReportFormat.count(data.evidence.reduce(0) { $0 + $1.labelled }), "", "", "",
        ])
        let columns = ["stage", "agent", "labels", "kernel path", "windows", "samples", "top-1 disagreement",
                       "labelled", "reference accuracy", "candidate accuracy", "mean KL"]
        return "<section id=\"evidence\"><h2>Evidence per agent</h2>\n"
            + table(columns: columns, rows: rows, className: "evidence") + "\n</section>"
    }

    private func table(columns: [String], rows: [[String]], className: String) -> String {
        let head = "<tr>" + columns.map { "<th scope=\"col\">\(e($0))</th>" }.joined() + "</tr>"
        let body = rows.map { "<tr>" + $0.map { "<td>\(e($0))</td>" }.joined() + "</tr>" }.joined(separator: "\n")
        return "<table class=\"\(className)\">\n<thead>\(head)</thead>\n<tbody>\n\(body)\n</tbody>\n</table>"
    }

    private func e(_ text: String) -> String { HTMLText.escape(text) }

    // MARK: style

    /// Band colours are shared by the charts, the legend and the verdict box, so one look says which band.
    private static let stylesheet = """
        :root { --ship: #dcf2dc; --needs-qat: #fcefcf; --stay-fp16: #f9d9d6; --ink: #1f2933; --muted: #5f6b7a; --bound: #2563eb; }
        body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink);
               max-width: 1100px; margin: 24px auto; padding: 0 20px; }
        h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px; } h3 { font-size: 16px; margin: 0; }
        code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
        .subtitle, .how-to-read, .chart-summary, footer { color: var(--muted); }
        .verdict { border-left: 8px solid #9aa5b1; background: #f1f3f5; padding: 10px 18px; margin: 18px 0; border-radius: 4px; }
        .verdict h2 { margin: 4px 0; font-size: 22px; }
        .verdict.outcome-ship { border-color: #2f9e44; background: var(--ship); }
        .verdict.outcome-needs-qat { border-color: #e8a317; background: var(--needs-qat); }
        .verdict.outcome-stay-fp16 { border-color: #d9480f; background: var(--stay-fp16); }
        table { border-collapse: collapse; margin: 8px 0; font-size: 14px; }
        th, td { border-bottom: 1px solid #dde1e6; padding: 4px 10px; text-align: left; vertical-align: top; }
        table.facts th { color: var(--muted); font-weight: normal; white-space: nowrap; }
        table.facts td { word-break: break-all; }
        table.evidence td:nth-child(2), table.events td:first-child { white-space: nowrap; }
        table.evidence td:nth-child(n+5) { text-align: right; font-variant-numeric: tabular-nums; }
        table.evidence tr:last-child td { font-weight: 600; border-top: 2px solid #9aa5b1; }
        figure.chart { margin: 18px 0 26px; } figcaption p { margin: 2px 0 6px; }
        svg.bound-chart { width: 100%; height: auto; display: block; font-size: 12px; background: #fff; }
        .policy-band { stroke: none; } .band-ship { fill: var(--ship); } .band-needs-qat { fill: var(--needs-qat); }
        .band-stay-fp16 { fill: var(--stay-fp16); }
        .band-label { font-size: 12px; fill: var(--ink); } .threshold { stroke: #7b8794; stroke-dasharray: 6 4; }
        .gridline { stroke: #000; stroke-opacity: 0.07; } .plot-frame { fill: none; stroke: #9aa5b1; }
        .tick { fill: var(--muted); } .tick-y { text-anchor: end; } .tick-x { text-anchor: middle; }
        .axis-label { fill: var(--ink); font-size: 13px; text-anchor: middle; }
        .bound-band { fill: var(--bound); fill-opacity: 0.22; stroke: none; }
        .bound-line { fill: none; stroke: var(--bound); stroke-width: 1; stroke-opacity: 0.7; }
        .statistic-line { fill: none; stroke: var(--ink); stroke-width: 2; }
        .decision-point { fill: var(--ink); }
        .final-bounds { stroke: var(--ink); stroke-width: 2; } .final-point { fill: #fff; stroke: var(--ink); stroke-width: 3; }
        .final-label { font-size: 14px; font-weight: 600; fill: var(--ink); paint-order: stroke; stroke: #fff; stroke-width: 4px; }
        .legend-label { fill: var(--ink); } .note, .empty { fill: var(--muted); color: var(--muted); font-style: italic; }
        footer { margin-top: 32px; font-size: 13px; }
        """
}

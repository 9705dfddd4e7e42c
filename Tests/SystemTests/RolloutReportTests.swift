import Foundation
import Ledger
import Operations
import ShadowEval
import XCTest

/// `quantfleet rollout report`: a real ledger written through the Ledger API as the coordinator
/// writes it, the real executable, and the page rendered by headless Chromium, which must find the
/// charts, the decision and the tables in the DOM it parsed, and paint something on the screen.
final class RolloutReportTests: XCTestCase {
    func testReportOfAStagedRolloutRendersInChromium() throws {
        let chromium = try Chromium.require()
        let directory = try scratchDirectory()
        let story = try StagedRolloutStory.write(to: directory.appendingPathComponent("ledger.sqlite").path)
        let page = directory.appendingPathComponent("report.html")

        let result = try SystemTestSupport.run(quantfleet, [
            "rollout", "report", story.rolloutID, "--db", story.ledgerPath, "--html", page.path,
        ])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("2 chart(s), 17 evaluation(s), decision ship"), result.output)

        let html = try String(contentsOf: page, encoding: .utf8)
        // The SVG namespace is a name, not something fetched; any other address would be.
        let withoutNamespace = html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
        for external in ["http://", "https://", "<script", "<link", "src=", "@import"] {
            XCTAssertFalse(withoutNamespace.contains(external), "self-contained page, yet it contains \(external)")
        }

        let dom = try chromium.dumpDOM(of: page, scratch: directory)
        let charts = Self.elements(in: dom, opening: "<svg class=\"bound-chart\"", closing: "</svg>")
        XCTAssertEqual(charts.count, 2, "one chart per stage")
        for (chart, expected) in zip(charts, story.decisionsPerStage) {
            XCTAssertTrue(chart.contains("data-decisions=\"\(expected)\""), chart.prefix(400).description)
            XCTAssertEqual(Self.count("<circle class=\"decision-point\"", in: chart), expected, "a marker per evaluation")
            XCTAssertEqual(Self.pathPoints(of: "statistic-line", in: chart), expected, "the estimate line goes through every evaluation")
            XCTAssertEqual(Self.pathPoints(of: "bound-line bound-upper", in: chart), expected)
            XCTAssertEqual(Self.pathPoints(of: "bound-band", in: chart), 2 * expected, "the band runs out along one bound and back along the other")
            XCTAssertEqual(Self.count("<rect class=\"policy-band ", in: chart), 3, "ship, needs-qat and stay-fp16 are all shaded")
            XCTAssertTrue(chart.contains("labelled samples n") && chart.contains("accuracy drop (%)"), "axis labels")
        }
        XCTAssertTrue(charts.first?.contains("ship at n = 2,000") == true, "stage 1's last evaluation is named on its chart")
        XCTAssertTrue(charts.last?.contains("ship at n = 2,100") == true, "stage 2's last evaluation is named on its chart")

        XCTAssertTrue(dom.contains("Decision: <span class=\"decision-word\">Ship</span>"), "the verdict in one word")
        XCTAssertTrue(dom.contains("The candidate may ship at stage 2 of 2 (100 % of the target): with 95 % confidence "
            + "the accuracy drop is below 1 % (upper bound 0.96 %)"), "the verdict in words")
        XCTAssertTrue(dom.contains("Rollout state: promoted, stage 2 of 2"))
        XCTAssertTrue(dom.contains("band edges of policy 2026-12-06.1, as recorded with the decisions"))
        XCTAssertTrue(dom.contains("Stage 1 of 2 (50 % of the target)") && dom.contains("Stage 2 of 2 (100 % of the target)"))
        XCTAssertTrue(
            dom.contains("<th scope=\"row\">materially different</th><td>classification: top-1 differs</td>"),
            "the candidate's task, registered without one: top-1")

        // Who and why, with the operator's text shown rather than run.
        let events = Self.elements(in: dom, opening: "<table class=\"events\"", closing: "</table>").first ?? ""
        XCTAssertEqual(Self.count("<tr>", in: events), 1 + 4, "a header and create, start, advance, promote")
        XCTAssertTrue(events.contains("operator:ada") && events.contains("controller"))
        XCTAssertTrue(events.contains("for the lab &lt;script&gt;alert('x')&lt;/script&gt; &amp; co"), events)
        XCTAssertFalse(dom.contains("<script"), "text from the ledger must never become markup")

        let evidence = Self.elements(in: dom, opening: "<table class=\"evidence\"", closing: "</table>").first ?? ""
        XCTAssertEqual(Self.count("<tr>", in: evidence), 1 + 3 + 1, "a header, agent-1 in stage 1, both agents in stage 2, the total")
        XCTAssertTrue(evidence.contains("site=north &lt;b&gt;") && evidence.contains("agent-2"), evidence)

        // Painted, not just parsed: the page's screenshot is far from a blank page's.
        let screenshot = try chromium.screenshot(of: page, scratch: directory, name: "report.png")
        let blankPage = directory.appendingPathComponent("blank.html")
        try Data("<!DOCTYPE html><html><body></body></html>".utf8).write(to: blankPage)
        let blank = try chromium.screenshot(of: blankPage, scratch: directory, name: "blank.png")
        XCTAssertEqual(screenshot.prefix(8), Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "a PNG")
        XCTAssertGreaterThan(screenshot.count, 5 * blank.count,
                             "screenshot \(screenshot.count) bytes against a blank page's \(blank.count): nothing was drawn")
    }

    /// Decisions recorded before the ledger kept policy bands take them from the policy file of
    /// their version, and only from that.
    func testBandsOfOldDecisionsComeFromThePolicyFileOfTheirVersion() throws {
        let directory = try scratchDirectory()
        let story = try StagedRolloutStory.write(to: directory.appendingPathComponent("ledger.sqlite").path, recordingBands: false)
        let matching = try RolloutReportData.load(
            rolloutID: story.rolloutID, from: try Ledger.openReadOnly(path: story.ledgerPath),
            policy: Policy(yaml: String(contentsOf: SystemTestSupport.packageRoot.appendingPathComponent("Config/policy.yaml"), encoding: .utf8)))
        XCTAssertEqual(matching.bands, PolicyBands(shipBelow: 0.01, stayFP16Above: 0.03, source: .policyFile(version: "2026-12-06.1")))
        let policy = directory.appendingPathComponent("policy.yaml")
        let text = try String(contentsOf: SystemTestSupport.packageRoot.appendingPathComponent("Config/policy.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "version: \"2026-12-06.1\"", with: "version: \"2027-01-01.1\"")
        try Data(text.utf8).write(to: policy)
        let page = directory.appendingPathComponent("report.html")

        let result = try SystemTestSupport.run(quantfleet, [
            "rollout", "report", story.rolloutID, "--db", story.ledgerPath, "--html", page.path, "--policy", policy.path,
        ])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("policy file is version 2027-01-01.1 but the ledger's decisions were made under 2026-12-06.1"),
                      result.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: page.path), "no page drawn with thresholds that did not decide")
    }

    /// The renderer on its own: without a policy file it says the bands are the standard ones, it
    /// thins markers on long series but keeps every point on the lines, and says when early bounds
    /// run off the axis.
    func testLongSeriesAreThinnedAndStandardBandsAreNamed() throws {
        let directory = try scratchDirectory()
        let ledger = try Ledger(path: directory.appendingPathComponent("ledger.sqlite").path)
        try ledger.acquireControllerTerm(holder: "report-tests", lasting: .seconds(3600))
        let rollout = try StagedRolloutStory.registerModelsAndOpen(in: ledger, stages: nil)
        let evaluations = 400
        for index in 1...evaluations {
            let n = 10 * index
            let halfWidth = 2.0 / Double(n).squareRoot()
            try ledger.recordDecision(
                StagedRolloutStory.decision(n: n, statistic: 0.02, halfWidth: halfWidth, outcome: index == evaluations ? .needsQAT : .collecting),
                rolloutID: rollout, at: Date(timeIntervalSince1970: 1_800_000_000 + Double(index)))
        }
        let data = try RolloutReportData.load(rolloutID: rollout, from: try Ledger.openReadOnly(path: ledger.path))
        XCTAssertEqual(data.bands, .standard)
        let page = RolloutReportPage(data: data, generatedAt: Date(timeIntervalSince1970: 1_800_000_000))
        let chart = try XCTUnwrap(page.charts.first)
        XCTAssertEqual(page.charts.count, 1)
        XCTAssertEqual(Self.count("<circle class=\"decision-point\"", in: chart.svg), BoundChart.maximumMarkers)
        XCTAssertEqual(Self.pathPoints(of: "statistic-line", in: chart.svg), evaluations)
        XCTAssertTrue(chart.svg.contains("n = 4,000: accuracy drop 2.00 %"), "the last evaluation keeps its marker")
        XCTAssertTrue(chart.svg.contains("bounds beyond the axis are cut off"), "the first bounds are ±63 %")
        XCTAssertTrue(chart.svg.contains("needs-qat at n = 4,000"))
        let html = page.html
        XCTAssertTrue(html.contains("standard band edges (ship below 1 %, stay-fp16 above 3 %)"))
        XCTAssertTrue(html.contains("Decision: <span class=\"decision-word\">Needs QAT</span>"))
        XCTAssertTrue(html.contains("Whole rollout"))
    }

    // MARK: helpers

    private var quantfleet: URL { SystemTestSupport.executables.appendingPathComponent("quantfleet") }

    private func scratchDirectory() throws -> URL {
        let directory = try SystemTestSupport.scratchDirectory("rollout-report")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory
    }

    /// Each element from `opening` to the next `closing`, in document order.
    private static func elements(in text: String, opening: String, closing: String) -> [String] {
        var found: [String] = []
        var rest = text[...]
        while let start = rest.range(of: opening) {
            guard let end = rest.range(of: closing, range: start.upperBound..<rest.endIndex) else { break }
            found.append(String(rest[start.lowerBound..<end.upperBound]))
            rest = rest[end.upperBound...]
        }
        return found
    }

    private static func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    /// Points in the `d` of the first path with this class: one per M or L command.
    private static func pathPoints(of className: String, in svg: String) -> Int? {
        guard let start = svg.range(of: "<path class=\"\(className)\" d=\""),
              let end = svg.range(of: "\"", range: start.upperBound..<svg.endIndex)
        else { return nil }
        return svg[start.upperBound..<end.lowerBound].filter { $0 == "M" || $0 == "L" }.count
    }
}

/// A staged rollout as the coordinator records it: 50 % then 100 % of the agents labelled
/// site=north or site=south, each stage evaluated after every window with bounds that narrow
/// until the upper bound drops below 1 % (ship), then promotion.
private struct StagedRolloutStory {
    let ledgerPath: String
    let rolloutID: String
    let decisionsPerStage: [Int]

    static let policyVersion = "2026-12-06.1"  // Config/policy.yaml's

    /// `recordingBands`: decisions carry the policy's bands, as the coordinator records them since
    /// ledger migration v4; false writes them as older coordinators did.
    static func write(to path: String, recordingBands: Bool = true) throws -> StagedRolloutStory {
        let ledger = try Ledger(path: path)
        try ledger.acquireControllerTerm(holder: "report-tests", lasting: .seconds(3600))
        let id = try registerModelsAndOpen(in: ledger, stages: [50, 100])
        var clock = Date(timeIntervalSince1970: 1_800_000_000)
        func tick() -> Date {
            clock += 30
            return clock
        }
        try ledger.recordAgentSeen(id: "agent-1", kernelPath: "avx2", agentVersion: "0.1", labels: ["site": "north <b>"], at: tick())
        try ledger.recordAgentSeen(id: "agent-2", kernelPath: "scalar", agentVersion: "0.1", labels: ["site": "south"], at: tick())
        try ledger.changeState(
            rolloutID: id, from: [.created], to: .running, actor: "operator:ada", action: "start",
            reason: "INT8 for the lab <script>alert('x')</script> & co", at: tick())

        var decisionsPerStage: [Int] = []
        for (stage, agents, statistic, spread, step) in [(0, ["agent-1"], 0.003, 0.3, 200), (1, ["agent-1", "agent-2"], 0.002, 0.35, 300)] {
            try ledger.enroll(agentIDs: agents, rolloutID: id, stage: stage, at: tick())
            let assignment = try ledger.assignment(forRollout: id, stage: stage).id
            var n = 0
            var sequence: Int64 = 0
            var decisions = 0
            var outcome = Outcome.collecting
            while outcome == .collecting {
                for agent in agents {
                    sequence += 1
                    _ = try ledger.ingest(window(agent: agent, assignment: assignment, sequence: sequence, count: step / agents.count))
                }
                n += step
                let halfWidth = spread / Double(n).squareRoot()
                outcome = statistic + halfWidth < 0.01 ? .ship : .collecting  // the policy's ship rule at 1 %
                var evaluation = decision(n: n, statistic: statistic, halfWidth: halfWidth, outcome: outcome)
                if recordingBands {
                    evaluation.shipBelow = 0.01
                    evaluation.stayFP16Above = 0.03
                }
                try ledger.recordStageDecision(evaluation, rolloutID: id, stage: stage, at: tick())
                decisions += 1
            }
            decisionsPerStage.append(decisions)
            if stage == 0 {
                try ledger.advanceStage(rolloutID: id, actor: "controller", reason: "ship at n = \(n)", at: tick())
            }
        }
        try ledger.changeState(
            rolloutID: id, from: [.running], to: .promoted, actor: "controller", action: "promote", reason: "ship at the last stage", at: tick())
        return StagedRolloutStory(ledgerPath: path, rolloutID: id, decisionsPerStage: decisionsPerStage)
    }

    /// Registers a reference and a candidate; opens a staged rollout with `stages`, else one as the
    /// coordinator's configuration file does. Returns its id.
    static func registerModelsAndOpen(in ledger: Ledger, stages: [Int]?) throws -> String {
        let reference = String(repeating: "a", count: 64)
        let candidate = String(repeating: "b", count: 64)
        let registered = Date(timeIntervalSince1970: 1_800_000_000)
        try ledger.registerModel(ModelRecord(sha256: reference, name: "digits", precision: "fp16", sizeBytes: 2_000, registeredAt: registered))
        try ledger.registerModel(ModelRecord(sha256: candidate, name: "digits", precision: "int8", sizeBytes: 1_000, registeredAt: registered))
        guard let stages else {
            return try ledger.ensureRollout(
                modelName: "digits", referenceSHA256: reference, candidateSHA256: candidate, samplingRate: 1, windowSize: 10,
                policyVersion: policyVersion).id
        }
        return try ledger.createStagedRollout(
            StagedRolloutRequest(
                modelName: "digits", referenceSHA256: reference, candidateSHA256: candidate, samplingRate: 1, windowSize: 100,
                windowMaxAgeMillis: 1_000, policyVersion: policyVersion, target: [:], stages: stages),
            actor: "operator:ada", at: registered).id
    }

    static func decision(n: Int, statistic: Double, halfWidth: Double, outcome: Outcome) -> Decision {
        Decision(
            outcome: outcome, metric: DecisionMetric.labelledAccuracyDrop.rawValue, n: n, statistic: statistic,
            lowerBound: statistic - halfWidth, upperBound: statistic + halfWidth, confidence: 0.95, policyVersion: policyVersion)
    }

    private static func window(agent: String, assignment: String, sequence: Int64, count: Int) -> WindowRecord {
        WindowRecord(
            agentID: agent, assignmentID: assignment, sequence: sequence, kernelPath: agent == "agent-1" ? "avx2" : "scalar",
            summary: WindowSummary(
                count: count, top1Agreements: count - 1, klDivergenceSum: 0.01 * Double(count), maxAbsDiff: 0.1,
                labelled: count, referenceCorrect: count - 10, candidateCorrect: count - 10,
                referenceOnlyCorrect: 1, candidateOnlyCorrect: 1,
                referenceLatencyMicrosSum: 1_000 * count, candidateLatencyMicrosSum: 500 * count, shadowDrops: 0,
                startedAtMillis: 1_000 * sequence, endedAtMillis: 1_000 * sequence + 999))
    }
}

/// Headless Chromium, the browser CI renders the page in. Missing is a failure, not a skip: CI
/// installs it (Tools/install-dependencies.sh --test-oracles), and a skipped check proves nothing.
private struct Chromium {
    let executable: URL

    struct Missing: Error, CustomStringConvertible {
        let names: [String]
        var description: String {
            "chromium is not installed (looked for \(names.joined(separator: ", ")) on PATH); "
                + "install it with Tools/install-dependencies.sh --test-oracles or apt-get install -y chromium"
        }
    }

    /// The first Chromium on PATH; throws (failing the test) when there is none.
    static func require() throws -> Chromium {
        let names = ["chromium", "chromium-browser", "google-chrome"]
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map(String.init)
        for directory in directories {
            for name in names where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
                return Chromium(executable: URL(fileURLWithPath: "\(directory)/\(name)"))
            }
        }
        throw Missing(names: names)
    }

    func dumpDOM(of page: URL, scratch: URL) throws -> String {
        let output = try run(["--dump-dom", page.absoluteString], scratch: scratch)
        return String(decoding: output, as: UTF8.self)
    }

    func screenshot(of page: URL, scratch: URL, name: String) throws -> Data {
        let path = scratch.appendingPathComponent(name)
        _ = try run(["--screenshot=\(path.path)", "--window-size=1200,900", "--hide-scrollbars", page.absoluteString], scratch: scratch)
        return try Data(contentsOf: path)
    }

    /// Runs Chromium with its own profile in `scratch` (so runs never share a profile lock) and
    /// returns its standard output; its standard error, full of D-Bus complaints, goes to a file.
    private func run(_ arguments: [String], scratch: URL, timeout: TimeInterval = 90) throws -> Data {
        let run = UUID().uuidString.prefix(8)
        let stdout = scratch.appendingPathComponent("chromium-\(run).out")
        let stderr = scratch.appendingPathComponent("chromium-\(run).err")
        for file in [stdout, stderr] {
            guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
            }
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(scratch.appendingPathComponent("chromium-profile-\(run)").path)"]
            + arguments
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        let deadline = Date() + timeout
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            XCTFail("chromium \(arguments.joined(separator: " ")) did not finish in \(Int(timeout)) s")
        }
        let errors = String(decoding: (try? Data(contentsOf: stderr)) ?? Data(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "chromium \(arguments.joined(separator: " ")): \(errors.suffix(2_000))")
        return try Data(contentsOf: stdout)
    }
}

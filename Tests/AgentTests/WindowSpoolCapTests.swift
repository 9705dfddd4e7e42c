import Agent
import DaemonSupport
import FleetProtocol
import Foundation
import ShadowEval
import XCTest

/// The spool's cap: through a long outage the oldest unsent windows are merged so the spool stays
/// under `spool-max-bytes`, every count and sum the ledger reads is kept exactly, and a window once
/// handed out for sending is never changed.
final class WindowSpoolCapTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-cap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A window of `samples` ten-class samples as the shadow runner seals them: labels on every
    /// third, latencies and errors in the sketches.
    private static func window(_ index: Int, samples: Int = 50, assignmentID: String = "a-1") -> ShadowWindow {
        var generator = SeededGenerator(seed: UInt64(index) + 1)
        var aggregator = WindowAggregator()
        for sample in 0..<samples {
            let reference = (0..<10).map { _ in Float.random(in: 0..<1, using: &generator) }
            var candidate = reference
            if sample % 7 == 0 { candidate.swapAt(0, reference.firstIndex(of: reference.max()!)!) }
            aggregator.add(
                reference: reference, candidate: candidate, label: sample % 3 == 0 ? sample % 10 : nil,
                referenceLatencyMicros: Int.random(in: 500..<5_000, using: &generator),
                candidateLatencyMicros: Int.random(in: 200..<2_000, using: &generator),
                at: Int64(index * 1_000 + sample))
        }
        var window = ShadowWindow(aggregator.seal(), assignmentID: assignmentID, sequence: 0, kernelPath: "avx2")
        window.referenceMemoryBytes = 4_000_000
        window.candidateMemoryBytes = 1_000_000 + UInt64(index % 3)
        return window
    }

    /// What the ledger sums over a stage's windows, summed here over `windows`.
    private static func totals(_ windows: [ShadowWindow]) -> WindowAggregate {
        WindowAggregate.merged(windows.map(WindowAggregate.init))
    }

    func testAOneMegabyteSpoolThroughALongOutageKeepsEveryCount() throws {
        let spool = try WindowSpool(path: directory.appendingPathComponent("spool.sqlite").path, maxPendingBytes: 1 << 20)
        var sealed: [ShadowWindow] = []
        var merged = 0
        for index in 0..<4_000 {
            let window = Self.window(index)
            sealed.append(window)
            let result = try spool.seal(window)
            merged += result.merge?.windowsMerged ?? 0
            XCTAssertLessThanOrEqual(try spool.pendingBytes(), 1 << 20, "after window \(index)")
        }
        let pending = try spool.pending()
        XCTAssertGreaterThan(merged, 0, "4,000 windows outgrew 1 MB")
        XCTAssertEqual(pending.count + merged, sealed.count, "every window either waits or went into another")
        XCTAssertEqual(try spool.pendingBytes(), pending.reduce(0) { $0 + (try! $1.serializedBytes() as Data).count },
                       "the triggers' byte count equals the windows'")

        let before = Self.totals(sealed), after = Self.totals(pending)
        XCTAssertEqual(after.count, 200_000)
        XCTAssertEqual(after.agreement, before.agreement)
        XCTAssertEqual(after.labels, before.labels)
        XCTAssertEqual(after.labelsByClass, before.labelsByClass)
        XCTAssertEqual(after.agreementByReferenceClass, before.agreementByReferenceClass)
        XCTAssertEqual(after.klDivergenceSumUnits, before.klDivergenceSumUnits)
        XCTAssertEqual(after.referenceLatencyMicrosSum, before.referenceLatencyMicrosSum)
        XCTAssertEqual(after.candidateLatencyMicros, before.candidateLatencyMicros, "sketches merge exactly")
        XCTAssertEqual(after.maxAbsDiff, before.maxAbsDiff)
        XCTAssertEqual(after.startedAtMillis, before.startedAtMillis)
        XCTAssertEqual(after.endedAtMillis, before.endedAtMillis)
        XCTAssertEqual(pending.map(\.candidateMemoryBytes).max(), 1_000_002)
        XCTAssertEqual(pending.map(\.sequence), pending.map(\.sequence).sorted(), "in sequence order, each under its first window's number")
        XCTAssertEqual(pending.first?.sequence, 0)
        XCTAssertEqual(pending.last?.sequence, 3_999, "the newest window is kept as it was")
        XCTAssertEqual(pending.last, sealed.last.map { var window = $0; window.sequence = 3_999; return window })
    }

    func testWindowsHandedOutForSendingAreNeverMerged() throws {
        let spool = try WindowSpool(path: directory.appendingPathComponent("spool.sqlite").path, maxPendingBytes: 64 << 10)
        for index in 0..<20 { _ = try spool.seal(Self.window(index)) }
        let handedOut = try spool.pendingForSending()
        XCTAssertEqual(handedOut.count, 20)
        for index in 20..<400 { _ = try spool.seal(Self.window(index)) }
        let pending = try spool.pending()
        XCTAssertEqual(Array(pending.prefix(20)), handedOut, "windows sent (maybe stored by the coordinator) keep their number and content")
        XCTAssertLessThan(pending.count, 400, "the unsent ones were merged")
        XCTAssertEqual(Self.totals(pending).count, 400 * 50)
    }

    func testASpoolOfOnlySentWindowsStaysOverItsCapRatherThanDropOne() throws {
        let spool = try WindowSpool(path: directory.appendingPathComponent("spool.sqlite").path, maxPendingBytes: 16 << 10)
        for index in 0..<100 {
            _ = try spool.seal(Self.window(index))
            _ = try spool.pendingForSending()
        }
        XCTAssertGreaterThan(try spool.pendingBytes(), 16 << 10)
        XCTAssertEqual(try spool.pending().count, 100, "nothing sent is merged or dropped")
        // Acks make room again.
        for window in try spool.pending() { try spool.acknowledge(assignmentID: window.assignmentID, sequence: window.sequence) }
        XCTAssertEqual(try spool.pendingBytes(), 0)
    }

    func testAMergedWindowHoldsWhatItsWindowsHeld() throws {
        let windows = (0..<5).map { index in
            var window = Self.window(index)
            window.sequence = UInt64(10 + index)
            return window
        }
        let merged = ShadowWindow.merging(windows)
        XCTAssertEqual(merged.sequence, 10)
        XCTAssertEqual(merged.count, windows.reduce(0) { $0 + $1.count })
        XCTAssertEqual(merged.labelled, windows.reduce(0) { $0 + $1.labelled })
        XCTAssertEqual(merged.referenceOnlyCorrect, windows.reduce(0) { $0 + $1.referenceOnlyCorrect })
        XCTAssertEqual(merged.startedAtMs, windows[0].startedAtMs)
        XCTAssertEqual(merged.endedAtMs, windows[4].endedAtMs)
        XCTAssertEqual(WindowSummary(merged).candidateCorrect, windows.reduce(0) { $0 + Int($1.candidateCorrect) })
        // One window goes through the aggregate unchanged.
        XCTAssertEqual(WindowAggregate(ShadowWindow.merging([windows[0]])), WindowAggregate(windows[0]))
    }
}

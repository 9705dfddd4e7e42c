import FleetProtocol
import Foundation
import XCTest

@testable import Agent

/// A spool that refuses windows (its disk full) does not stop the agent: sealed windows wait in
/// memory, in order, and are numbered and stored once the spool takes them again.
final class SealBacklogTests: XCTestCase {
    private struct Refused: Error, CustomStringConvertible {
        var description: String { "database or disk is full" }
    }

    private func window(_ count: UInt32) -> ShadowWindow {
        ShadowWindow.with {
            $0.assignmentID = "a-1"
            $0.count = count
        }
    }

    func testHeldWindowsAreStoredInOrderOnceTheSpoolTakesThemAndTheOldestAreGivenUpPastCapacity() {
        var backlog = SealBacklog(capacity: 3)
        var refusing = true
        var stored: [UInt32] = []
        func store(_ window: ShadowWindow) throws -> ShadowWindow {
            if refusing { throw Refused() }
            stored.append(window.count)
            return window
        }
        XCTAssertEqual(backlog.seal(window(1), store: store).stored.map(\.count), [])
        for count: UInt32 in 2...4 {
            let outcome = backlog.seal(window(count), store: store)
            XCTAssertEqual(outcome.failure, "database or disk is full")
            XCTAssertEqual(outcome.givenUp, count == 4 ? 1 : 0)
        }
        XCTAssertEqual(backlog.held.map(\.count), [2, 3, 4], "the oldest was given up")
        XCTAssertEqual(backlog.givenUpSinceEmpty, 1)

        refusing = false
        let recovered = backlog.seal(nil, store: store)
        XCTAssertNil(recovered.failure)
        XCTAssertEqual(recovered.stored.map(\.count), [2, 3, 4])
        XCTAssertEqual(stored, [2, 3, 4])
        XCTAssertTrue(backlog.held.isEmpty)
        XCTAssertEqual(backlog.givenUpSinceEmpty, 0)
        XCTAssertEqual(backlog.seal(window(5), store: store).stored.map(\.count), [5])
    }

    /// The real thing: the spool's SQLite file on a 512 KiB tmpfs that a filler file fills up.
    /// Mounting needs root (CI runs as root); elsewhere the test says so and skips.
    func testAFullDiskHoldsWindowsAndTheyAreNumberedInOrderWhenSpaceReturns() throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("spool-disk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: mountPoint) }
        guard getuid() == 0 else { throw XCTSkip("mounting a size-limited tmpfs needs root") }
        XCTAssertEqual(try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mountPoint.path]), 0)
        addTeardownBlock { _ = try? Self.run("/bin/umount", [mountPoint.path]) }

        let spool = try WindowSpool(path: mountPoint.appendingPathComponent("spool.sqlite").path)
        var backlog = SealBacklog(capacity: 100)
        XCTAssertEqual(backlog.seal(window(1), store: { try spool.seal($0).window }).stored.map(\.sequence), [0])

        let filler = mountPoint.appendingPathComponent("filler")
        FileManager.default.createFile(atPath: filler.path, contents: nil)
        let handle = try FileHandle(forWritingTo: filler)
        let block = Data(repeating: 0xA5, count: 4096)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()

        var refusals = 0
        for count: UInt32 in 2...30 {
            let outcome = backlog.seal(window(count), store: { try spool.seal($0).window })
            if let failure = outcome.failure {
                refusals += 1
                XCTAssertTrue(failure.contains("full"), failure)
            }
        }
        XCTAssertGreaterThan(refusals, 0, "the full disk refused windows")
        XCTAssertFalse(backlog.held.isEmpty)

        try FileManager.default.removeItem(at: filler)
        let recovered = backlog.seal(nil, store: { try spool.seal($0).window })
        XCTAssertNil(recovered.failure)
        XCTAssertTrue(backlog.held.isEmpty)
        let pending = try spool.pending()
        XCTAssertEqual(pending.map(\.count), Array(1...30), "every window, in the order sealed")
        XCTAssertEqual(pending.map(\.sequence), Array(0..<30), "numbered without gaps")
    }

    private static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

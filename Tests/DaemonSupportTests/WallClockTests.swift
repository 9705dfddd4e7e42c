import DaemonSupport
import Foundation
import XCTest

/// The wall clock a campaign can step: the system's, moved by the seconds a file holds, read again
/// at most once a second.
final class WallClockTests: XCTestCase {
    func testTheOffsetFileMovesTheClockAndIsReadAgainAfterASecond() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("clock-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: file) }
        let clock = WallClock.offset(file: file)
        XCTAssertEqual(clock.now().timeIntervalSince(Date()), 0, accuracy: 0.5, "no file: no offset")

        try Data("+3600\n".utf8).write(to: file)
        Thread.sleep(forTimeInterval: 1.1)
        XCTAssertEqual(clock.now().timeIntervalSince(Date()), 3600, accuracy: 0.5)

        try Data("-600".utf8).write(to: file)
        XCTAssertEqual(clock.now().timeIntervalSince(Date()), 3600, accuracy: 0.5, "read at most once a second")
        Thread.sleep(forTimeInterval: 1.1)
        XCTAssertEqual(clock.now().timeIntervalSince(Date()), -600, accuracy: 0.5)

        try Data("soon".utf8).write(to: file)
        Thread.sleep(forTimeInterval: 1.1)
        XCTAssertEqual(clock.now().timeIntervalSince(Date()), 0, accuracy: 0.5, "what is not a number of seconds moves nothing")
        XCTAssertEqual(WallClock.system.now().timeIntervalSince(Date()), 0, accuracy: 0.5)
    }
}

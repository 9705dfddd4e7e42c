@testable import Chaos
import XCTest

/// The schedule is the campaign's reproducible half: drawn from the seed alone.
final class FaultScheduleTests: XCTestCase {
    private let settings = FaultSchedule.Settings(duration: .seconds(100), agents: 12)

    func testTheSameSeedDrawsTheSameScheduleAndAnotherSeedAnother() {
        let first = FaultSchedule.draw(seed: 7, settings)
        XCTAssertEqual(first, FaultSchedule.draw(seed: 7, settings))
        XCTAssertEqual(first.fingerprint, FaultSchedule.draw(seed: 7, settings).fingerprint)
        XCTAssertNotEqual(first.entries, FaultSchedule.draw(seed: 8, settings).entries)
        XCTAssertNotEqual(first.fingerprint, FaultSchedule.draw(seed: 8, settings).fingerprint)
    }

    func testAHundredSecondsAtOneFaultPer800MillisecondsDrawAHundredAndTwentyFiveOfEveryKind() {
        for seed in UInt64(1)...20 {
            XCTAssertEqual(FaultSchedule.draw(seed: seed, settings).entries.count, 125, "seed \(seed)")
        }
        let kinds = (UInt64(1)...5).map { Set(FaultSchedule.draw(seed: $0, settings).counts.keys) }.reduce(Set(), { $0.union($1) })
        XCTAssertEqual(kinds, Set(Fault.Kind.allCases))
    }

    func testNoTwoFaultsShareATargetAtOnceAndAllEndInTime() {
        for seed in UInt64(1)...20 {
            let schedule = FaultSchedule.draw(seed: seed, settings)
            var busyUntil: [Fault.Target: Duration] = [:]
            for entry in schedule.entries {
                XCTAssertGreaterThanOrEqual(entry.at, .zero)
                XCTAssertLessThanOrEqual(entry.at + entry.fault.duration, settings.duration, "seed \(seed): \(entry.fault) ends late")
                for target in entry.fault.targets(agents: settings.agents) {
                    XCTAssertGreaterThanOrEqual(entry.at, busyUntil[target] ?? .zero, "seed \(seed): \(entry.fault) overlaps on \(target)")
                    busyUntil[target] = entry.at + entry.fault.duration
                }
                if case .killAgent(let agent, _) = entry.fault { XCTAssertTrue((0..<settings.agents).contains(agent)) }
            }
            XCTAssertEqual(schedule.entries.map(\.at), schedule.entries.map(\.at).sorted())
        }
    }

    func testAFaultFreeRunHasAnEmptySchedule() {
        XCTAssertEqual(FaultSchedule.draw(seed: 7, settings, injectsFaults: false).entries, [])
    }

    func testFaultsReadAsWhatTheyDo() {
        XCTAssertEqual("\(Fault.killAgent(2, downFor: .milliseconds(1500)))", "SIGKILL agent-3, restart after 1500 ms")
        XCTAssertEqual(
            "\(Fault.delayLink(0, latency: .milliseconds(40), jitter: .milliseconds(10), lasting: .seconds(2)))",
            "agent-1 link: latency 40 ms + jitter 10 ms for 2000 ms")
        XCTAssertEqual(Fault.partitionFleet(lasting: .seconds(1)).targets(agents: 3), [.agentLink(0), .agentLink(1), .agentLink(2)])
        XCTAssertEqual("\(Fault.fillAgentDisk(1, lasting: .seconds(3)))", "agent-2 disk full for 3000 ms")
        XCTAssertEqual(Fault.fillAgentDisk(1, lasting: .seconds(3)).targets(agents: 3), [.agentDisk(1)])
        XCTAssertEqual("\(Fault.jumpAgentClock(0, bySeconds: -300, lasting: .seconds(2)))", "agent-1 clock -300 s for 2000 ms")
        XCTAssertEqual("\(Fault.jumpAgentClock(0, bySeconds: 900, lasting: .seconds(2)))", "agent-1 clock +900 s for 2000 ms")
    }
}

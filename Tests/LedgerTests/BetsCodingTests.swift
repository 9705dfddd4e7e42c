import ShadowEval
import XCTest

@testable import Ledger

/// The text `stage_totals.bets` and `slice_totals.bets` hold: read back exactly, refused by name
/// when it is anything else.
final class BetsCodingTests: XCTestCase {
    func testBetsRoundTrip() throws {
        var totals = EvidenceTotals()
        for index in 0..<30 {
            totals.append(EvidenceTotals(
                windows: 1, samples: 100, disagreements: index % 4, labelled: 20, referenceOnlyCorrect: index % 3,
                candidateOnlyCorrect: index % 2, floorSamples: 10, floorDisagreements: index % 2))
        }
        let text = BetsCoding.encode(totals.bets)
        XCTAssertEqual(try BetsCoding.decode(text, column: "stage_totals.bets"), totals.bets)
        XCTAssertEqual(
            text, [totals.bets.pairedDifference, totals.bets.disagreement, totals.bets.floor].map(\.description).joined(separator: "|"),
            "the stored text reads as the tallies print")
        XCTAssertEqual(try BetsCoding.decode("", column: "stage_totals.bets"), EvidenceTotals.Bets())
        XCTAssertEqual(
            try BetsCoding.decode("34:2/55/3 35:3/82/5|30:97/3|", column: "c").pairedDifference.countsByStep,
            [34: [2, 55, 3], 35: [3, 82, 5]])
    }

    func testAnythingElseIsRefusedWithTheColumn() {
        let malformed = [
            "34:2/55/3", "34:2/55|30:97/3|", "34:2/55/3|30:97/3/1|", "34:2/55/3 34:1/1/1||", "99:1/1/1||",
            "34:2/x/3||", "34:2/55/3||| ", "34:2/55/3  35:1/1/1||", "34:99999999999999999999/1/1||", "|:|",
        ]
        for text in malformed {
            XCTAssertThrowsError(try BetsCoding.decode(text, column: "slice_totals.bets"), text) { error in
                guard case .unexpectedValue(let column, let value)? = error as? LedgerError else {
                    return XCTFail("\(text): \(error)")
                }
                XCTAssertEqual(column, "slice_totals.bets")
                XCTAssertTrue(value.hasPrefix(text), value)
            }
        }
    }
}

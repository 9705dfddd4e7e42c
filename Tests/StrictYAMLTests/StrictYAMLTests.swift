import StrictYAML
import XCTest

/// The one YAML parser: what Yams reads, decoded strictly, every error with its line and key.
final class StrictYAMLTests: XCTestCase {
    struct Settings: Decodable, Equatable {
        struct Limits: Decodable, Equatable {
            let memory: Int
            let ratio: Double?
        }

        struct Route: Decodable, Equatable {
            let name: String
            let weight: Int
        }

        let name: String
        let limits: Limits
        let routes: [Route]
        let labels: [String: String]?
        let enabled: Bool?
    }

    private let valid = """
        name: edge   # a comment
        limits:
          memory: 512
          ratio: 1.5
        routes:
          - name: a
            weight: 1
          - name: "b # not a comment"
            weight: 2
        labels:
          site: berlin
          line: "7"
        """

    func testDecodesNestedMappingsListsAndFreeFormKeys() throws {
        let settings = try StrictYAML.decode(Settings.self, from: valid)
        XCTAssertEqual(settings, Settings(name: "edge", limits: .init(memory: 512, ratio: 1.5),
                                          routes: [.init(name: "a", weight: 1), .init(name: "b # not a comment", weight: 2)],
                                          labels: ["site": "berlin", "line": "7"], enabled: nil))
    }

    func testAnUnknownKeyIsRefusedWithItsLineAndTheKnownOnes() {
        XCTAssertThrowsError(try StrictYAML.decode(Settings.self, from: valid.replacingOccurrences(of: "  ratio: 1.5", with: "  ratoi: 1.5"))) { error in
            XCTAssertEqual(error as? ConfigurationError,
                           ConfigurationError(line: 4, key: "limits.ratoi", reason: "is not a known key; did you mean ratio?"))
        }
        XCTAssertThrowsError(try StrictYAML.decode(Settings.self, from: valid + "\nenabeld: true")) { error in
            XCTAssertEqual((error as? ConfigurationError)?.line, 13)
            XCTAssertEqual((error as? ConfigurationError)?.key, "enabeld")
        }
        XCTAssertThrowsError(try StrictYAML.decode(Settings.self, from: valid + "\ncolour: blue")) { error in
            XCTAssertEqual((error as? ConfigurationError)?.reason, "is not a known key; known here: enabled, labels, limits, name, routes")
        }
        // A required key misspelt is named as the misspelling, not as a missing key.
        XCTAssertThrowsError(try StrictYAML.decode(Settings.self, from: valid.replacingOccurrences(of: "  memory: 512", with: "  memroy: 512"))) { error in
            XCTAssertEqual(error as? ConfigurationError,
                           ConfigurationError(line: 3, key: "limits.memroy", reason: "is not a known key; did you mean memory?"))
        }
        XCTAssertThrowsError(try StrictYAML.decode(Settings.self, from: valid.replacingOccurrences(of: "    weight: 2", with: "    weight: 2\n    wieght: 3"))) { error in
            XCTAssertEqual((error as? ConfigurationError)?.key, "routes[1].wieght")
            XCTAssertEqual((error as? ConfigurationError)?.line, 10)
        }
    }

    func testARepeatedKeyIsRefused() {
        XCTAssertThrowsError(try StrictYAML.decode(Settings.self, from: valid + "\nname: again")) { error in
            XCTAssertEqual(error as? ConfigurationError, ConfigurationError(line: 13, key: "name", reason: "is given twice"))
        }
    }

    func testWrongTypesAndMissingKeysNameTheKeyAndLine() {
        XCTAssertThrowsError(try StrictYAML.decode(Settings.self, from: valid.replacingOccurrences(of: "memory: 512", with: "memory: lots"))) { error in
            XCTAssertEqual(error as? ConfigurationError, ConfigurationError(line: 3, key: "limits.memory", reason: "must be a whole number"))
        }
        XCTAssertThrowsError(try StrictYAML.decode(Settings.self, from: valid.replacingOccurrences(of: "    weight: 1\n", with: ""))) { error in
            XCTAssertEqual((error as? ConfigurationError)?.key, "routes[0].weight")
            XCTAssertEqual((error as? ConfigurationError)?.reason, "is missing")
        }
    }

    func testSyntaxErrorsNameTheLineAndAnEmptyFileSaysSo() {
        XCTAssertEqual((try? StrictYAML.decode(Settings.self, from: valid + "\n  stray: [1")) == nil, true)
        XCTAssertThrowsError(try StrictYAML.decode(Settings.self, from: valid + "\nlabels: [unclosed")) { error in
            XCTAssertNotNil((error as? ConfigurationError)?.line, "\(error)")
        }
        XCTAssertThrowsError(try StrictYAML.decode(Settings.self, from: "")) { error in
            XCTAssertEqual(error as? ConfigurationError, ConfigurationError(line: nil, reason: "the file is empty"))
        }
    }

    /// A value a type refuses after reading it (a threshold out of range) gets the key's line.
    func testATypesOwnKeyErrorGetsTheKeysLine() {
        struct Threshold: Decodable {
            struct OutOfRange: ConfigurationKeyError {
                var key: String? { "limits.ratio" }
                var reason: String { "must be below 1" }
            }

            init(from decoder: any Decoder) throws {
                _ = try Settings(from: decoder)
                throw OutOfRange()
            }
        }
        XCTAssertThrowsError(try StrictYAML.decode(Threshold.self, from: valid)) { error in
            XCTAssertEqual(error as? ConfigurationError, ConfigurationError(line: 4, key: "limits.ratio", reason: "must be below 1"))
        }
    }
}

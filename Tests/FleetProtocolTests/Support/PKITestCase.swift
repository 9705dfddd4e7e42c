import XCTest

/// A test case with a fresh `TestPKI` per test and the logs of a server and a client side.
class PKITestCase: XCTestCase {
    var pki: TestPKI!
    let serverLogs = CapturedLogs()
    let clientLogs = CapturedLogs()

    override func setUpWithError() throws {
        self.pki = try TestPKI.make()
    }

    override func tearDown() {
        self.pki.remove()
    }
}

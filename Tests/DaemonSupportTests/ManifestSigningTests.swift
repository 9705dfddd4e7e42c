import Crypto
import FleetProtocol
import Foundation
import XCTest

@testable import DaemonSupport

final class ManifestSigningTests: XCTestCase {
    private let key = Curve25519.Signing.PrivateKey()
    private var trusted: TrustedSigningKeys { TrustedSigningKeys([key.publicKey]) }

    private func signedModel(sha256: String = String(repeating: "ab", count: 32), size: UInt64 = 1_000) throws -> ModelRef {
        let manifest = ModelManifest.with {
            $0.sha256 = sha256
            $0.sizeBytes = size
            $0.name = "fashion-mnist-mlp"
            $0.precision = "int8"
        }
        return try ModelRef.with {
            $0.sha256 = sha256
            $0.sizeBytes = size
            $0.manifest = try ManifestSigning.sign(manifest, with: key)
        }
    }

    func testASignedManifestVerifies() throws {
        let manifest = try ManifestSigning.verify(try signedModel(), trusting: trusted)
        XCTAssertEqual(manifest.name, "fashion-mnist-mlp")
    }

    func testAnyEditIsRefused() throws {
        var flipped = try signedModel()
        flipped.manifest.signature[0] ^= 1
        XCTAssertThrowsError(try ManifestSigning.verify(flipped, trusting: trusted)) {
            XCTAssertEqual($0 as? ManifestSigning.SigningError, .badSignature(sha256: flipped.sha256))
        }
        var otherModel = try signedModel()
        otherModel.sha256 = String(repeating: "cd", count: 32)
        XCTAssertThrowsError(try ManifestSigning.verify(otherModel, trusting: trusted)) {
            XCTAssertEqual($0 as? ManifestSigning.SigningError, .manifestMismatch(sha256: otherModel.sha256, field: "sha256"))
        }
        var resized = try signedModel()
        resized.sizeBytes += 1
        XCTAssertThrowsError(try ManifestSigning.verify(resized, trusting: trusted)) {
            XCTAssertEqual($0 as? ManifestSigning.SigningError, .manifestMismatch(sha256: resized.sha256, field: "size"))
        }
        let otherKey = TrustedSigningKeys([Curve25519.Signing.PrivateKey().publicKey])
        XCTAssertThrowsError(try ManifestSigning.verify(try signedModel(), trusting: otherKey)) {
            XCTAssertTrue("\($0)".contains("which this agent does not trust"), "\($0)")
        }
        var unsigned = try signedModel()
        unsigned.clearManifest()
        XCTAssertThrowsError(try ManifestSigning.verify(unsigned, trusting: trusted)) {
            XCTAssertEqual($0 as? ManifestSigning.SigningError, .unsigned(sha256: unsigned.sha256))
        }
    }

    /// The PEM files OpenSSL writes, as `Deploy/pki/make-pki.sh` makes them.
    func testOpenSSLKeysLoadAndPair() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("signing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let privatePath = directory.appendingPathComponent("signing.key").path
        let publicPath = directory.appendingPathComponent("signing.pub.pem").path
        try openssl(["genpkey", "-algorithm", "ed25519", "-out", privatePath])
        try openssl(["pkey", "-in", privatePath, "-pubout", "-out", publicPath])
        let privateKey = try ManifestSigning.privateKey(pemFile: privatePath)
        let publicKey = try ManifestSigning.publicKey(pemFile: publicPath)
        XCTAssertEqual(privateKey.publicKey.rawRepresentation, publicKey.rawRepresentation)

        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", privatePath])
        XCTAssertThrowsError(try ManifestSigning.privateKey(pemFile: privatePath)) {
            XCTAssertEqual($0 as? ManifestSigning.SigningError, .notAnEd25519Key(path: privatePath))
        }
        XCTAssertThrowsError(try ManifestSigning.publicKey(pemFile: directory.appendingPathComponent("missing.pem").path))
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "openssl \(arguments)")
    }
}

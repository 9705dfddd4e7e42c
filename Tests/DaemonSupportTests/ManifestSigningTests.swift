import Crypto
import FleetProtocol
import Foundation
import XCTest

@testable import DaemonSupport

final class ManifestSigningTests: XCTestCase {
    private let key = Curve25519.Signing.PrivateKey()

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
        let manifest = try ManifestSigning.verify(try signedModel(), with: key.publicKey)
        XCTAssertEqual(manifest.name, "fashion-mnist-mlp")
    }

    func testAnyEditIsRefused() throws {
        var flipped = try signedModel()
        flipped.manifest.signature[0] ^= 1
        XCTAssertThrowsError(try ManifestSigning.verify(flipped, with: key.publicKey)) {
            XCTAssertEqual($0 as? ManifestSigning.SigningError, .badSignature(sha256: flipped.sha256))
        }
        var otherModel = try signedModel()
        otherModel.sha256 = String(repeating: "cd", count: 32)
        XCTAssertThrowsError(try ManifestSigning.verify(otherModel, with: key.publicKey)) {
            XCTAssertEqual($0 as? ManifestSigning.SigningError, .manifestMismatch(sha256: otherModel.sha256, field: "sha256"))
        }
        var resized = try signedModel()
        resized.sizeBytes += 1
        XCTAssertThrowsError(try ManifestSigning.verify(resized, with: key.publicKey)) {
            XCTAssertEqual($0 as? ManifestSigning.SigningError, .manifestMismatch(sha256: resized.sha256, field: "size"))
        }
        XCTAssertThrowsError(try ManifestSigning.verify(try signedModel(), with: Curve25519.Signing.PrivateKey().publicKey))
        var unsigned = try signedModel()
        unsigned.clearManifest()
        XCTAssertThrowsError(try ManifestSigning.verify(unsigned, with: key.publicKey)) {
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

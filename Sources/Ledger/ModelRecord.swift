import Foundation
import GRDB
import ShadowEval

/// A model file known to the ledger, identified by the SHA-256 of its bytes.
public struct ModelRecord: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "models"

    public var sha256: String
    public var name: String
    /// e.g. "fp16", "int8", "int4".
    public var precision: String
    public var sizeBytes: Int64
    public var registeredAt: Date
    /// The coordinator's signed manifest of the model (serialized), and the Ed25519 signature over it.
    public var manifest: Data?
    public var signature: Data?
    /// The manifest's version among models of the same name and precision; nil when unsigned.
    public var manifestVersion: Int64?
    /// Which signing key signed the manifest; nil when unsigned, or signed before key ids.
    public var manifestKeyID: String?
    /// What its outputs mean (stored as JSON); nil for models registered before tasks were.
    public var task: TaskKind?

    /// When its outputs differ materially, in words (top-1 classification when no task was registered).
    public var taskSummary: String { (task ?? .topOneClassification).summary }

    enum CodingKeys: String, CodingKey {
        case sha256, name, precision, manifest, signature, task
        case sizeBytes = "size_bytes"
        case registeredAt = "registered_at"
        case manifestVersion = "manifest_version"
        case manifestKeyID = "manifest_key_id"
    }

    public init(
        sha256: String, name: String, precision: String, sizeBytes: Int64, registeredAt: Date,
        manifest: Data? = nil, signature: Data? = nil, manifestVersion: Int64? = nil, manifestKeyID: String? = nil, task: TaskKind? = nil
    ) {
        self.sha256 = sha256
        self.name = name
        self.precision = precision
        self.sizeBytes = sizeBytes
        self.registeredAt = registeredAt
        self.manifest = manifest
        self.signature = signature
        self.manifestVersion = manifestVersion
        self.manifestKeyID = manifestKeyID
        self.task = task
    }
}

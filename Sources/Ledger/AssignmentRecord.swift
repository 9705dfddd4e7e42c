import Foundation
import GRDB

/// One stage of a rollout; agents tag their windows with the assignment they were given.
public struct AssignmentRecord: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "assignments"

    public var id: String
    public var rolloutID: String
    /// 0 for the first stage of the rollout.
    public var stage: Int
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id
        case rolloutID = "rollout_id"
        case stage
        case createdAt = "created_at"
    }
}

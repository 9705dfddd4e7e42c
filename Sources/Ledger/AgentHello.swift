import Foundation

/// What an agent said of itself when it connected, as the `agents` table keeps it.
public struct AgentHello: Sendable, Equatable {
    public var agentID: String
    public var kernelPath: String
    public var agentVersion: String
    public var labels: [String: String]
    public var at: Date

    public init(agentID: String, kernelPath: String, agentVersion: String, labels: [String: String], at: Date) {
        self.agentID = agentID
        self.kernelPath = kernelPath
        self.agentVersion = agentVersion
        self.labels = labels
        self.at = at
    }
}

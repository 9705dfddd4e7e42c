import ShadowEval

/// The thresholds a chart shades: `ship` below `shipBelow`, `stay-fp16` above `stayFP16Above`,
/// `needs-qat` between. Decisions recorded since ledger migration v4 carry them; for older ones the
/// page says where its edges came from.
public struct PolicyBands: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// The bands the latest decision recorded in the ledger.
        case recorded(version: String)
        /// A policy file whose version is the one the decisions recorded.
        case policyFile(version: String)
        /// The product's standard bands (1 % and 3 %, ARCHITECTURE.md), assumed for want of the file.
        case standard
    }

    public var shipBelow: Double
    public var stayFP16Above: Double
    public var source: Source

    public init(shipBelow: Double, stayFP16Above: Double, source: Source) {
        self.shipBelow = shipBelow
        self.stayFP16Above = stayFP16Above
        self.source = source
    }

    public static let standard = PolicyBands(shipBelow: 0.01, stayFP16Above: 0.03, source: .standard)

    /// The bands the latest decision recorded; for a ledger from before they were recorded, those
    /// of `policy` when it is the version the ledger recorded (`recordedVersion`: the latest
    /// decision's, else the rollout's), else the standard bands. A file of another version is
    /// refused: its thresholds did not make these decisions.
    public static func resolve(
        latest: Decision?, recordedVersion: String, policy: Policy?
    ) throws(RolloutReportError) -> PolicyBands {
        if let latest, let shipBelow = latest.shipBelow, let stayFP16Above = latest.stayFP16Above {
            return PolicyBands(shipBelow: shipBelow, stayFP16Above: stayFP16Above, source: .recorded(version: latest.policyVersion))
        }
        guard let policy else { return .standard }
        guard policy.version == recordedVersion else {
            throw .policyVersionMismatch(file: policy.version, recorded: recordedVersion)
        }
        return PolicyBands(shipBelow: policy.shipBelow, stayFP16Above: policy.stayFP16Above, source: .policyFile(version: policy.version))
    }

    /// For the page: where the edges came from, in words.
    var provenance: String {
        switch source {
        case .recorded(let version):
            return "band edges of policy \(version), as recorded with the decisions"
        case .policyFile(let version):
            return "band edges from policy \(version) (the version the decisions recorded)"
        case .standard:
            return "standard band edges (ship below \(ReportFormat.threshold(shipBelow)), stay-fp16 above "
                + "\(ReportFormat.threshold(stayFP16Above))): these decisions predate recorded bands; "
                + "pass --policy FILE of that version to draw its own thresholds"
        }
    }
}

/// Why a report could not be made.
public enum RolloutReportError: Error, Equatable, CustomStringConvertible {
    case policyVersionMismatch(file: String, recorded: String)

    public var description: String {
        switch self {
        case .policyVersionMismatch(let file, let recorded):
            return "the policy file is version \(file) but the ledger's decisions were made under \(recorded); "
                + "pass the policy file of version \(recorded), or none for the standard bands"
        }
    }
}

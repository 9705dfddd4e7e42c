import DaemonSupport
import Foundation
import NIOConcurrencyHelpers
import Prometheus
import ShadowEval

/// Per rollout, what the controller's latest evaluation found, for dashboards and alerts: the stage
/// it is at (1-based), the decision's bounds beside the policy's bands, and how long the stage has
/// been collecting (0 once decided). Set on the coordinator holding the controller term, which is
/// the one evaluating; the time collecting counts from that coordinator's first evaluation of the
/// stage, so a failover starts it again.
final class RolloutGauges: Sendable {
    private let registry: PrometheusCollectorRegistry
    /// When each rollout's current stage was first seen collecting.
    private let collectingSince = NIOLockedValueBox<[String: (stage: Int, since: ContinuousClock.Instant)]>([:])

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// The gauges' names; a descriptor is made per use, as it is not Sendable.
    private enum Gauge: String {
        case stage = "rollout_stage", bound = "rollout_bound", band = "rollout_band", collecting = "rollout_collecting"

        var descriptor: MetricNameDescriptor {
            switch self {
            case .stage:
                return .quantfleet("coordinator", rawValue, help: "The stage a rollout is at, 1-based (a rollout without a plan: 1).")
            case .bound:
                return .quantfleet("coordinator", rawValue, help: "The latest decision's lower and upper confidence bound on the accuracy drop.")
            case .band:
                return .quantfleet("coordinator", rawValue, help: "The policy's bands the bounds are held against: ship-below, stay-fp16-above.")
            case .collecting:
                return .quantfleet(
                    "coordinator", rawValue, unit: "seconds", help: "How long the rollout's current stage has been collecting; 0 once decided.")
            }
        }
    }

    private func set(_ gauge: Gauge, _ labels: [(String, String)], to value: Double) {
        registry.makeGauge(descriptor: gauge.descriptor, labels: labels).set(to: value)
    }

    func record(_ decision: Decision, rolloutID: String, stage: Int) {
        let rollout = ("rollout", rolloutID)
        set(.stage, [rollout], to: Double(stage + 1))
        set(.bound, [rollout, ("bound", "lower")], to: decision.lowerBound)
        set(.bound, [rollout, ("bound", "upper")], to: decision.upperBound)
        if let shipBelow = decision.shipBelow { set(.band, [rollout, ("band", "ship-below")], to: shipBelow) }
        if let stayFP16Above = decision.stayFP16Above { set(.band, [rollout, ("band", "stay-fp16-above")], to: stayFP16Above) }
        let collecting: Duration = collectingSince.withLockedValue { since in
            guard decision.outcome == .collecting else {
                since[rolloutID] = nil
                return .zero
            }
            if since[rolloutID]?.stage != stage { since[rolloutID] = (stage, .now) }
            return since[rolloutID]!.since.duration(to: .now)
        }
        set(.collecting, [rollout], to: collecting / .seconds(1))
    }
}

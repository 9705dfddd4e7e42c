import FleetProtocol
import Inference
import ShadowEval
import NIOConcurrencyHelpers

/// The models the agent serves and compares, by model name (each name its own assignment), read
/// on every request. The assignment's mode says which one answers: the reference while the
/// candidate is shadowed, the candidate once promoted (with the former reference still loaded and
/// shadowed for a while), the reference again after a rollback. Switching between loaded models is
/// one swap under a lock: no download, no load.
final class ServingState: Sendable {
    struct Active: Sendable {
        let assignment: Assignment
        /// Loaded sessions; a model the mode no longer needs is released (nil).
        let reference: InferenceSession?
        let candidate: InferenceSession?
        /// The reference loaded again on another float kernel path, for the noise floor; nil when
        /// there is no other path here or the floor is off.
        let referenceElsewhere: InferenceSession?
        /// The float output compared between the two models (e.g. class probabilities).
        let comparedOutput: String
        /// When the two outputs differ materially (from the models' registration).
        let task: TaskKind

        var mode: ServingMode { assignment.mode }

        /// The model that answers requests.
        var primary: InferenceSession { mode == .promoted ? candidate! : reference! }

        /// The model run in shadow on sampled requests, if any.
        var shadowed: InferenceSession? {
            switch mode {
            case .promoted: reference
            case .rolledBack: nil
            case .shadow, .UNRECOGNIZED: candidate
            }
        }

        /// Windows always pair (reference, candidate); after promotion the primary is the candidate.
        var primaryIsCandidate: Bool { mode == .promoted }

        /// The models this mode needs loaded.
        static func needed(by assignment: Assignment) -> [ModelRef] {
            assignment.mode == .rolledBack ? [assignment.reference] : [assignment.reference, assignment.candidate]
        }

        /// Bytes its loaded sessions hold (`InferenceSession.residentBytes`), the noise floor's copy too.
        var residentBytes: Int { Self.residentBytes(of: [reference, candidate, referenceElsewhere]) }

        /// Bytes these sessions hold together: what the memory budget counts, before and after they serve.
        static func residentBytes(of sessions: [InferenceSession?]) -> Int {
            sessions.reduce(0) { $0 + ($1?.residentBytes ?? 0) }
        }
    }

    enum ActivationError: Error, CustomStringConvertible {
        case noComparableOutput(reference: [String], candidate: [String])

        var description: String {
            switch self {
            case .noComparableOutput(let reference, let candidate):
                "reference outputs \(reference) and candidate outputs \(candidate) share no float output to compare"
            }
        }
    }

    private let served = NIOLockedValueBox<[String: Active]>([:])

    /// What serves under this model name, if anything.
    func active(named name: String) -> Active? { served.withLockedValue { $0[name] } }

    /// The model names served, sorted.
    var names: [String] { served.withLockedValue { $0.keys.sorted() } }

    /// Bytes the sessions of every model name but `name` hold: what a new assignment for `name`
    /// shares the memory budget with.
    func residentBytes(besides name: String) -> Int {
        served.withLockedValue { $0.filter { $0.key != name }.values.reduce(0) { $0 + $1.residentBytes } }
    }

    /// Bytes every loaded session holds.
    var residentBytes: Int { served.withLockedValue { $0.values.reduce(0) { $0 + $1.residentBytes } } }

    /// Stops serving every model name but `name`: a coordinator that sends one assignment at a time
    /// means each to replace the last.
    func keepOnly(_ name: String) {
        served.withLockedValue { $0 = $0.filter { $0.key == name } }
    }

    /// Serves `assignment` with freshly loaded sessions (`candidate` is nil after a rollback).
    func activate(
        _ assignment: Assignment, task: TaskKind, reference: InferenceSession, candidate: InferenceSession?,
        referenceElsewhere: InferenceSession?
    ) throws {
        let compared: String
        if let candidate {
            let candidateFloats = Set(candidate.outputs.filter { $0.elementType == .float32 }.map(\.name))
            guard let output = reference.outputs.first(where: { $0.elementType == .float32 && candidateFloats.contains($0.name) })
            else {
                throw ActivationError.noComparableOutput(
                    reference: reference.outputs.map(\.name), candidate: candidate.outputs.map(\.name))
            }
            compared = output.name
        } else {
            compared = reference.outputs.first { $0.elementType == .float32 }?.name ?? ""
        }
        let next = Active(
            assignment: assignment, reference: reference, candidate: candidate, referenceElsewhere: referenceElsewhere,
            comparedOutput: compared, task: task)
        served.withLockedValue { $0[assignment.modelName] = next }
    }

    /// Switches to `assignment`'s mode with the sessions already loaded for the same two models;
    /// false when a model it needs is not resident (the caller loads it).
    func switchResident(to assignment: Assignment, task: TaskKind) -> Bool {
        served.withLockedValue { served in
            guard let current = served[assignment.modelName],
                  current.assignment.reference.sha256 == assignment.reference.sha256,
                  current.assignment.candidate.sha256 == assignment.candidate.sha256,
                  current.reference != nil, assignment.mode == .rolledBack || current.candidate != nil
            else { return false }
            let rolledBack = assignment.mode == .rolledBack
            served[assignment.modelName] = Active(
                assignment: assignment, reference: current.reference, candidate: rolledBack ? nil : current.candidate,
                referenceElsewhere: rolledBack ? nil : current.referenceElsewhere, comparedOutput: current.comparedOutput,
                task: task)
            return true
        }
    }

    /// Ends the promoted assignment's residency: the former reference is no longer shadowed and
    /// its memory is released. A later rollback loads it again from the cache (no download).
    func releaseReference(of assignment: Assignment) {
        served.withLockedValue { served in
            guard let current = served[assignment.modelName], current.assignment == assignment, current.mode == .promoted else { return }
            served[assignment.modelName] = Active(
                assignment: assignment, reference: nil, candidate: current.candidate, referenceElsewhere: nil,
                comparedOutput: current.comparedOutput, task: current.task)
        }
    }
}

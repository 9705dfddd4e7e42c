import FleetProtocol
import Inference
import Synchronization

/// The models the agent currently serves and shadows. Swapped atomically when an assignment's
/// models are verified and loaded; read on every request.
final class ServingState: Sendable {
    struct Active: Sendable {
        let assignment: Assignment
        let reference: InferenceSession
        let candidate: InferenceSession
        /// The float output compared between the two models (e.g. class probabilities).
        let comparedOutput: String
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

    private let active = Mutex<Active?>(nil)

    var current: Active? { active.withLock { $0 } }

    func activate(_ assignment: Assignment, reference: InferenceSession, candidate: InferenceSession) throws {
        let candidateFloats = Set(candidate.outputs.filter { $0.elementType == .float32 }.map(\.name))
        guard let compared = reference.outputs.first(where: { $0.elementType == .float32 && candidateFloats.contains($0.name) })
        else {
            throw ActivationError.noComparableOutput(
                reference: reference.outputs.map(\.name), candidate: candidate.outputs.map(\.name))
        }
        let next = Active(assignment: assignment, reference: reference, candidate: candidate, comparedOutput: compared.name)
        active.withLock { $0 = next }
    }
}

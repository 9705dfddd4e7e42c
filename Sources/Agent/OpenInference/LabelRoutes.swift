import DaemonSupport
import Foundation
import Hummingbird

/// `POST /v2/labels`: ground truth for requests answered earlier, named by the id each answer
/// carried (the caller's OIP `id`, or the one the agent gave it).
///
/// ```json
/// {"labels": [{"id": "part-4711", "label": 3}, {"id": "batch-9", "label": [1, 0, 7]}]}
/// ```
///
/// `label` is one class, or one per row for a request of several rows, as the inference request's
/// `label` parameter. The answer says how many were taken and which ids had no outcome waiting.
/// A label counts once it reaches the agent within `label-horizon-ms` of its answer and after the
/// answer's window was sealed (`window-max-age-ms` at most); classifiers only.
struct LabelRoutes: Sendable {
    let intake: LateLabelIntake

    struct Body: Decodable {
        var labels: [Entry]

        struct Entry: Decodable {
            var id: String
            var label: [Int]

            enum CodingKeys: String, CodingKey { case id, label }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                id = try container.decode(String.self, forKey: .id)
                if let one = try? container.decode(Int.self, forKey: .label) {
                    label = [one]
                } else {
                    label = try container.decode([Int].self, forKey: .label)
                }
                if let problem = LateLabelIntake.problem(id: id, rows: label) {
                    throw DecodingError.dataCorruptedError(forKey: .label, in: container, debugDescription: problem)
                }
            }
        }
    }

    struct Answer: ResponseEncodable {
        var accepted: Int
        var notAwaited: [String]

        enum CodingKeys: String, CodingKey {
            case accepted
            case notAwaited = "not_awaited"
        }
    }

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v2/labels") { request, context in
            let data = try await request.collectedBody(context)
            let body: Body
            do {
                body = try JSONDecoder().decode(Body.self, from: data)
            } catch {
                throw OIPError(.badRequest, "not a labels body ({\"labels\": [{\"id\": ..., \"label\": ...}]}): \(Self.describe(error))")
            }
            let outcome = try intake.apply(body.labels.map { ($0.id, $0.label) })
            return Answer(accepted: outcome.accepted, notAwaited: outcome.notAwaited)
        }
    }

    /// A decoding error in a sentence that names the key, as `labels[2].label`.
    static func describe(_ error: any Error) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce("") { path, key in key.intValue.map { path + "[\($0)]" } ?? (path.isEmpty ? key.stringValue : path + "." + key.stringValue) }
        }
        switch error {
        case DecodingError.dataCorrupted(let context), DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return (context.codingPath.isEmpty ? "" : path(context.codingPath) + ": ") + context.debugDescription
        case DecodingError.keyNotFound(let key, let context):
            return path(context.codingPath + [key]) + " is missing"
        default:
            return "\(error)"
        }
    }
}

import Foundation
import Hummingbird
import HTTPTypes

/// Several coordinators share a PostgreSQL ledger, and only the one holding the controller term
/// changes rollouts (the database refuses the others' writes). A rollout command sent to another
/// coordinator is answered 307 with the holder's admin URL, so that a client that follows
/// redirects (quantfleet, `curl -L`) sends it there with its own operator certificate. Reads are
/// answered by every coordinator; models are registered on any.
struct ControllerTermRedirect: RouterMiddleware {
    typealias Context = AdminRequestContext
    let controller: RolloutController

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, request.uri.path.hasPrefix("/v1/rollouts"), !controller.holdsTerm else {
            return try await next(request, context)
        }
        guard let term = try controller.otherHoldersTerm() else {
            throw HTTPError(.serviceUnavailable, message:
                "no coordinator holds the controller term right now (one takes it within \(ControllerLease.termLength + ControllerLease.renewalInterval)); try again")
        }
        guard let adminURL = term.adminURL else {
            throw HTTPError(.serviceUnavailable, message:
                "rollouts are changed by the coordinator holding the controller term, \(term.holder), which serves no admin API")
        }
        var headers = HTTPFields()
        headers[.location] = adminURL + request.uri.description
        return Response(status: .temporaryRedirect, headers: headers)
    }
}

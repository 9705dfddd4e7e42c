import FleetProtocol
import Hummingbird

/// Lets through only clients whose verified certificate has the CN "operator:<name>" and is not
/// revoked. The TLS layer already refused clients without a certificate from the fleet CA; this
/// refuses the other holders of fleet certificates (agents) and revoked operators with 403 and a
/// message saying why. Hummingbird builds the TLS handler itself, so the CRL is checked here, on
/// every request: a revoked operator's open connection is refused at its next request.
struct OperatorAuthentication: RouterMiddleware {
    typealias Context = AdminRequestContext
    let verification: PeerVerification

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let identity: String
        do {
            identity = try await FleetTLS.peerIdentity(of: context.channel).get()
        } catch {
            throw HTTPError(.forbidden, message: "the admin API needs an operator client certificate: \(error)")
        }
        guard identity.hasPrefix(AdminAPI.operatorPrefix), identity.count > AdminAPI.operatorPrefix.count else {
            context.logger.warning("admin request refused", metadata: ["identity": "\(identity)", "path": "\(request.uri.path)"])
            throw HTTPError(
                .forbidden,
                message: "certificate CN '\(identity)' is not an operator certificate (CN operator:<name>, "
                    + "made by Deploy/pki/make-pki.sh --operator NAME); agent certificates cannot use the admin API")
        }
        let refusal: PeerCertificateRefusal?
        do {
            refusal = try await self.verification.revocation(of: context.channel)
        } catch {
            throw HTTPError(.forbidden, message: "the client certificate cannot be checked against the CRL: \(error)")
        }
        if let refusal {
            context.logger.warning("admin request refused", metadata: ["identity": "\(identity)", "reason": "\(refusal)"])
            throw HTTPError(.forbidden, message: "\(refusal)")
        }
        var context = context
        context.operatorIdentity = identity
        return try await next(request, context)
    }
}

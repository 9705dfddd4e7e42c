import FleetProtocol
import Hummingbird
import NIOCore

/// A request on the admin API: the TLS channel it came on (whose client certificate names the
/// operator) and, once `OperatorAuthentication` has checked it, the operator.
struct AdminRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// "operator:<name>", set by `OperatorAuthentication` before any route runs.
    var operatorIdentity = ""

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Model uploads arrive as one body.
    var maxUploadSize: Int { 512 << 20 }
}

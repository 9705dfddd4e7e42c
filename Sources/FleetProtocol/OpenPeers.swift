import NIOCore
import NIOConcurrencyHelpers
import X509

/// The connections whose peer passed verification, with the certificate each presented, so a newly
/// revoked certificate's open connections can be closed, not only its next handshakes refused.
final class OpenPeers: Sendable {
    private let peers = NIOLockedValueBox<[ObjectIdentifier: (channel: any Channel, certificate: Certificate)]>([:])

    /// Tracks `channel` until it closes.
    func add(_ channel: any Channel, certificate: Certificate) {
        let key = ObjectIdentifier(channel)
        self.peers.withLockedValue { $0[key] = (channel, certificate) }
        channel.closeFuture.whenComplete { _ in self.peers.withLockedValue { _ = $0.removeValue(forKey: key) } }
    }

    /// Closes every tracked connection whose certificate `shouldClose` picks; returns their subjects.
    func close(where shouldClose: (Certificate) -> Bool) -> [String] {
        let closing = self.peers.withLockedValue { $0.values.filter { shouldClose($0.certificate) } }
        for peer in closing { peer.channel.close(promise: nil) }
        return closing.map { "\($0.certificate.subject)" }
    }
}

import NIOCore
import NIOConcurrencyHelpers

/// A proxy's shared state: the link's faults, its open connections and what crossed it. The event
/// loops read it for every chunk; the controlling task changes it at any time.
final class LinkState: Sendable {
    private let state = NIOLockedValueBox(State())

    private struct State {
        var faults = LinkFaults.none
        var connections: [Int: ProxiedConnection] = [:]
        var nextID = 1
        var counters = FaultProxy.Counters()
    }

    var faults: LinkFaults { state.withLockedValue { $0.faults } }

    func update(_ change: (inout LinkFaults) -> Void) throws {
        try state.withLockedValue { state in
            var faults = state.faults
            change(&faults)
            try faults.validate()
            // A partition kills whatever is open when it begins; connections opened during it are
            // born dead (`open`).
            if faults.isPartitioned && !state.faults.isPartitioned {
                for connection in state.connections.values { connection.kill(closing: nil) }
            }
            state.faults = faults
        }
    }

    /// Registers a client connection; dead from the start while the link is partitioned.
    func open(_ client: any Channel) -> ProxiedConnection {
        state.withLockedValue { state in
            let connection = ProxiedConnection(id: state.nextID, client: client, isDead: state.faults.isPartitioned)
            state.nextID += 1
            state.connections[connection.id] = connection
            state.counters.connectionsAccepted += 1
            return connection
        }
    }

    func closed(_ connection: ProxiedConnection) {
        state.withLockedValue { _ = $0.connections.removeValue(forKey: connection.id) }
    }

    var connections: [ProxiedConnection] { state.withLockedValue { $0.connections.values.sorted { $0.id < $1.id } } }

    func connection(_ id: Int) throws -> ProxiedConnection {
        guard let connection = state.withLockedValue({ $0.connections[id] }) else { throw FaultProxyError.unknownConnection(id) }
        return connection
    }

    func count(forwarded: Int = 0, dropped: Int = 0) {
        state.withLockedValue {
            $0.counters.bytesForwarded += forwarded
            $0.counters.bytesDropped += dropped
        }
    }

    var counters: FaultProxy.Counters { state.withLockedValue { $0.counters } }
}

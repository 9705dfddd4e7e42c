#if canImport(Glibc)
import Glibc
#endif

/// The process's open-files limit, raised to the hard limit at start-up: each connection is a file
/// descriptor, and the soft default (often 1,024) would stop a load generator or a coordinator long
/// before the hard one.
public struct FileLimit: Sendable, Equatable {
    public var soft: UInt64
    public var hard: UInt64

    /// Raises the soft limit to the hard one and returns the limits now in force.
    public static func raiseSoftToHard() -> FileLimit {
        // Glibc imports RLIMIT_NOFILE as an enum case; the calls take its raw value.
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return FileLimit(soft: 0, hard: 0) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return FileLimit(soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max))
    }
}

extension FileLimit {
    /// A warning when `connections` (plus a margin for the process's own files) would not fit under
    /// the soft limit, or nil when they do.
    public func warning(connections: Int, role: String, margin: Int = 64) -> String? {
        let needed = UInt64(max(0, connections) + margin)
        guard needed > soft else { return nil }
        return "\(role) \(connections) needs about \(needed) open files, but the limit is \(soft) (hard \(hard), which this "
            + "process cannot raise): connections beyond about \(soft > UInt64(margin) ? soft - UInt64(margin) : 0) will fail (EMFILE)"
    }
}

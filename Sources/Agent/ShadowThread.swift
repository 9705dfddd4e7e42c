import Foundation
import NIOConcurrencyHelpers

/// The thread the shadow model runs on: one per agent process, 10 nice steps below the process, and
/// outside Swift's cooperative pool, whose few threads (one per core) also run the
/// HTTP handlers. `ShadowRunner` prefers it as its task executor, so a shadowed inference never
/// holds a thread the primary request needs, and the kernel gives the request path the CPU first
/// when both want it.
final class ShadowThread: TaskExecutor, Sendable {
    static let shared = ShadowThread()

    /// How many nice steps below the process the thread runs.
    static let lowered: Int32 = 10

    /// The thread's nice value: the process's (its main thread's, as `nice` started it) plus `lowered`.
    static var niceness: Int32 { min(19, processNiceness + lowered) }

    /// Field 19 of `/proc/self/stat`; 0 if it cannot be read.
    static var processNiceness: Int32 {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 16
        else { return 0 }
        return Int32(fields[16]) ?? 0
    }

    private let jobs = NIOLockedValueBox<[UnownedJob]>([])
    private let ready = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in
            // Linux keeps a nice value per thread, and `who` 0 is the calling thread: this lowers only
            // the shadow thread, relative to the process (a daemon started under `nice` keeps the gap).
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.niceness)
            runForever()
        }
        thread.name = "quantfleet-shadow"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLockedValue { $0.append(job) }
        ready.signal()
    }

    private func runForever() -> Never {
        while true {
            ready.wait()
            guard let job = jobs.withLockedValue({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

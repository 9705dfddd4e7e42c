import Coordinator
import FleetProtocol
import Foundation
import Ledger
import Logging
import ShadowEval

/// A body sent to the coordinator's admin API to create a rollout or act on one: decoded, then
/// handed to a real rollout controller over a real ledger (in a temporary folder, made once), which
/// refuses it with a named error or records it.
private let controller: RolloutController = {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-admin-\(getpid())").path
    try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return RolloutController(ledger: try! Ledger(path: folder + "/ledger.sqlite"), store: try! ModelStore(root: folder + "/models"),
                             policy: Policy(version: "fuzz", shipBelow: 0.01, stayFP16Above: 0.03, confidence: 0.95, minimumSamples: 2_000, minimumLabelled: 200),
                             logger: Logger(label: "fuzz-admin", factory: { _ in SwiftLogNoOpLogHandler() }))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAdmin(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let body = Data(bytes: start, count: count)
    // libFuzzer calls in synchronously; the controller is an actor.
    let done = DispatchSemaphore(value: 0)
    Task {
        if let request = try? JSONDecoder().decode(AdminAPI.CreateRollout.self, from: body),
           let rollout = try? await controller.createRollout(request, by: "operator:fuzz") {
            _ = try? await controller.start(rollout.id, by: "operator:fuzz", reason: "")
        }
        if let action = try? JSONDecoder().decode(AdminAPI.Action.self, from: body) {
            _ = try? await controller.pause("r-unknown", by: "operator:fuzz", reason: action.reason ?? "")
        }
        done.signal()
    }
    done.wait()
    return 0
}

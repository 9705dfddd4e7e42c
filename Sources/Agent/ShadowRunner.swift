import DaemonSupport
import Foundation
import Inference
import Logging
import ServiceLifecycle
import ShadowEval

/// Runs the candidate on sampled requests, pairs its output with the reference's, and seals
/// windows into the spool (by size, or by age when traffic is quiet).
struct ShadowRunner: Service {
    let queue: ShadowQueue
    let state: ServingState
    let spool: WindowSpool
    let notifier: WindowNotifier
    let logger: Logger

    private struct OpenWindow {
        var assignmentID: String
        var windowSize: Int
        var maxAge: Duration
        var kernelPath: String
        var openedAt = ContinuousClock.now
        var aggregator = WindowAggregator()
    }

    func run() async throws {
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                queue.tick()
            }
        }
        defer { ticker.cancel() }
        var open: OpenWindow?
        for await work in queue.work.cancelOnGracefulShutdown() {
            switch work {
            case .sample(let sample):
                guard let active = state.current, active.assignment.assignmentID == sample.assignmentID else { continue }
                if let window = open, window.assignmentID != sample.assignmentID {
                    try seal(window)
                    open = nil
                }
                var window = open ?? OpenWindow(
                    assignmentID: sample.assignmentID, windowSize: max(1, Int(active.assignment.windowSize)),
                    maxAge: .milliseconds(max(100, Int(active.assignment.windowMaxAgeMs))),
                    kernelPath: active.candidate.kernelPath)
                shadow(sample, on: active, into: &window.aggregator)
                if window.aggregator.count >= window.windowSize {
                    try seal(window)
                    open = nil
                } else {
                    open = window
                }
            case .tick:
                if let window = open, window.openedAt.duration(to: .now) >= window.maxAge {
                    try seal(window)
                    open = nil
                }
            }
        }
        // Shutting down: what was paired so far is sealed, not lost.
        if let window = open { try seal(window) }
    }

    private func shadow(_ sample: ShadowSample, on active: ServingState.Active, into aggregator: inout WindowAggregator) {
        let started = ContinuousClock.now
        let candidateOutput: Tensor
        do {
            guard let output = try active.candidate.run(sample.feeds)[active.comparedOutput] else { return }
            candidateOutput = output
        } catch {
            logger.warning("candidate failed on a sampled request", metadata: ["error": "\(error)"])
            return
        }
        let candidateMicros = Int(started.duration(to: .now) / .microseconds(1))
        let reference = sample.referenceOutput.floats
        let candidate = candidateOutput.floats
        let rows = max(1, sample.referenceOutput.shape.first ?? 1)
        guard reference.count == candidate.count, reference.count % rows == 0 else {
            logger.warning("reference and candidate outputs differ in shape", metadata: [
                "reference": "\(sample.referenceOutput.shape)", "candidate": "\(candidateOutput.shape)",
            ])
            return
        }
        let width = reference.count / rows
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for row in 0..<rows {
            let span = row * width..<(row + 1) * width
            aggregator.add(
                reference: Array(reference[span]), candidate: Array(candidate[span]),
                label: sample.labels.flatMap { row < $0.count ? $0[row] : nil },
                referenceLatencyMicros: sample.referenceLatencyMicros / rows,
                candidateLatencyMicros: candidateMicros / rows, at: now)
        }
    }

    private func seal(_ window: OpenWindow) throws {
        var aggregator = window.aggregator
        var summary = aggregator.seal()
        summary.shadowDrops += queue.takeDrops()
        guard summary.count > 0 || summary.shadowDrops > 0 else { return }
        let sealed = try spool.seal(summary, assignmentID: window.assignmentID, kernelPath: window.kernelPath)
        logger.debug("window sealed", metadata: ["sequence": "\(sealed.sequence)", "count": "\(sealed.count)"])
        notifier.signal()
    }
}

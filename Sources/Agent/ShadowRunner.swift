import DaemonSupport
import FleetProtocol
import Foundation
import Inference
import Logging
import ServiceLifecycle
import ShadowEval

/// Runs the shadowed model on sampled requests (the candidate, or the former reference after a
/// promotion), pairs its output with the primary's as (reference, candidate), and seals windows into
/// the spool (by size, or by age when traffic is quiet). Each model name's queue is drained by a
/// task of its own, all on the one shadow thread.
struct ShadowRunner: Service {
    let queues: ShadowQueues
    let state: ServingState
    let spool: WindowSpool
    let notifier: WindowNotifier
    /// Fraction of shadowed samples the reference also runs on its other kernel path.
    let noiseFloorRate: Double
    let metrics: AgentMetrics
    let logger: Logger
    /// What the windows' sample times are read from.
    var clock = WallClock.system
    /// Sealed windows held in memory while the spool cannot store them.
    var backlogCapacity = 1_000
    /// Outcomes kept for labels that may come later (`max-awaiting-labels`).
    var maxAwaitingLabels = AgentConfiguration.defaultMaxAwaitingLabels

    private struct OpenWindow {
        var assignmentID: String
        var windowSize: Int
        var maxAge: Duration
        var kernelPath: String
        var aggregator: WindowAggregator
        /// Resident bytes of the two models while the window was open (for the memory guard).
        var memory: (reference: Int, candidate: Int)
        var openedAt = ContinuousClock.now
        /// The window's unlabelled samples of classifiers, kept once it is sealed for labels to come.
        var awaiting: [WindowSpool.AwaitedLabel] = []
    }

    /// On the agent's `ShadowThread`, off the request path and the cooperative pool. A graceful
    /// shutdown closes the queues (rather than `cancelOnGracefulShutdown`, whose merge of two
    /// sequences costs child tasks on every element).
    func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskExecutorPreference(ShadowThread.shared) {
                await withDiscardingTaskGroup { group in
                    group.addTask {
                        while !queues.isClosed {
                            try? await Task.sleep(for: .milliseconds(250))
                            queues.tick()
                        }
                    }
                    for await (modelName, queue) in queues.added {
                        group.addTask { await pairAndSeal(queue, modelName: modelName) }
                    }
                }
            }
        } onGracefulShutdown: {
            queues.close()
        }
    }

    private func pairAndSeal(_ queue: ShadowQueue, modelName: String) async {
        var open: OpenWindow?
        var backlog = SealBacklog(capacity: backlogCapacity)
        for await work in queue.work {
            if queue.isClosed { break }
            switch work {
            case .sample(let sample):
                guard let active = state.active(named: modelName), active.assignment.assignmentID == sample.assignmentID else { continue }
                if let window = open, window.assignmentID != sample.assignmentID {
                    seal(window, drops: queue.takeDrops(), through: &backlog)
                    open = nil
                }
                var window = open ?? OpenWindow(
                    assignmentID: sample.assignmentID, windowSize: max(1, Int(active.assignment.windowSize)),
                    maxAge: .milliseconds(max(100, Int(active.assignment.windowMaxAgeMs))),
                    kernelPath: active.candidate?.kernelPath ?? InferenceSession.integerKernelPath,
                    aggregator: WindowAggregator(taskKind: active.task),
                    memory: (active.reference?.residentBytes ?? 0, active.candidate?.residentBytes ?? 0))
                shadow(sample, on: active, into: &window)
                if window.aggregator.count >= window.windowSize {
                    seal(window, drops: queue.takeDrops(), through: &backlog)
                    open = nil
                } else {
                    open = window
                }
            case .tick:
                if let window = open, window.openedAt.duration(to: .now) >= window.maxAge {
                    seal(window, drops: queue.takeDrops(), through: &backlog)
                    open = nil
                } else if !backlog.held.isEmpty {
                    store(nil, through: &backlog)
                }
            }
        }
        // Shutting down: what was paired so far is sealed, not lost (unless the spool still cannot
        // take it: then it is lost with the process, and the log says how many).
        if let window = open { seal(window, drops: queue.takeDrops(), through: &backlog) }
        if !backlog.held.isEmpty {
            logger.error("shutting down with windows the spool could not store; their samples are lost", metadata: [
                "model": "\(modelName)", "windows": "\(backlog.held.count)",
            ])
        }
    }

    private func shadow(_ sample: ShadowSample, on active: ServingState.Active, into window: inout OpenWindow) {
        guard let shadowed = active.shadowed else { return }
        let started = ContinuousClock.now
        let shadowOutput: Tensor
        do {
            guard let output = try shadowed.run(sample.feeds)[active.comparedOutput] else { return }
            shadowOutput = output
        } catch {
            logger.warning("shadowed model failed on a sampled request", metadata: ["error": "\(error)"])
            return
        }
        let shadowLatency = started.duration(to: .now)
        metrics.shadowLatency.record(shadowLatency)
        let shadowMicros = Int(shadowLatency / .microseconds(1))
        let (referenceOutput, candidateOutput) = active.primaryIsCandidate
            ? (shadowOutput, sample.primaryOutput) : (sample.primaryOutput, shadowOutput)
        let (referenceMicros, candidateMicros) = active.primaryIsCandidate
            ? (shadowMicros, sample.primaryLatencyMicros) : (sample.primaryLatencyMicros, shadowMicros)
        let reference = (values: referenceOutput.floats, shape: referenceOutput.shape)
        let samples: [(reference: [Float], candidate: [Float])]
        do {
            samples = try active.task.pairedSamples(
                reference: reference, candidate: (values: candidateOutput.floats, shape: candidateOutput.shape))
        } catch {
            logger.warning("the outputs do not fit the model's task; the sample is not compared", metadata: [
                "task": "\(active.task.summary)", "error": "\(error)",
            ])
            return
        }
        let now = Int64(clock.nowMillis)
        window.aggregator.addRequestLatencies(referenceMicros: referenceMicros, candidateMicros: candidateMicros)
        for (row, pair) in samples.enumerated() {
            let label = sample.labels.flatMap { row < $0.count ? $0[row] : nil }
            window.aggregator.add(
                reference: pair.reference, candidate: pair.candidate, label: label,
                referenceLatencyMicros: referenceMicros / samples.count,
                candidateLatencyMicros: candidateMicros / samples.count, at: now)
            if label == nil, active.task.hasClasses {
                window.awaiting.append(WindowSpool.AwaitedLabel(
                    requestID: sample.requestID, row: row, assignmentID: window.assignmentID, kernelPath: window.kernelPath,
                    referenceClass: OutputComparison.top1(pair.reference), candidateClass: OutputComparison.top1(pair.candidate),
                    answeredAtMillis: now))
            }
        }
        // A floor output that does not fit the task is left out of the floor, not out of the comparison.
        let floor = noiseFloor(sample, on: active).flatMap { try? active.task.pairedSamples(reference: reference, candidate: $0) } ?? []
        for pair in floor { window.aggregator.addNoiseFloor(reference: pair.reference, elsewhere: pair.candidate) }
    }

    /// The reference's output on this sample from its other kernel path, on a `noiseFloorRate` share.
    private func noiseFloor(_ sample: ShadowSample, on active: ServingState.Active) -> (values: [Float], shape: [Int])? {
        guard let elsewhere = active.referenceElsewhere, Double.random(in: 0..<1) < noiseFloorRate,
              let output = (try? elsewhere.run(sample.feeds))?[active.comparedOutput]
        else { return nil }
        return (output.floats, output.shape)
    }

    /// Seals `window` with the samples its model's queue dropped since its last window.
    private func seal(_ window: OpenWindow, drops: Int, through backlog: inout SealBacklog) {
        var aggregator = window.aggregator
        var aggregate = aggregator.seal()
        aggregate.shadowDrops += drops
        metrics.shadowDrops.increment(by: Int64(drops))
        guard aggregate.count > 0 || aggregate.shadowDrops > 0 else { return }
        var unsequenced = ShadowWindow(aggregate, assignmentID: window.assignmentID, sequence: 0, kernelPath: window.kernelPath)
        unsequenced.referenceMemoryBytes = UInt64(window.memory.reference)
        unsequenced.candidateMemoryBytes = UInt64(window.memory.candidate)
        store(unsequenced, through: &backlog)
        awaitLabels(window.awaiting)
    }

    /// Keeps the outcomes of the window's unlabelled samples for labels that may come later. They
    /// are bookkeeping beside the window: a spool that cannot keep them loses only those labels.
    private func awaitLabels(_ outcomes: [WindowSpool.AwaitedLabel]) {
        do {
            let dropped = try spool.awaitLabels(outcomes, maxAwaiting: maxAwaitingLabels)
            metrics.labelsDropped.increment(by: Int64(dropped))
        } catch {
            logger.warning("the spool cannot keep outcomes awaiting labels; labels for them will not count", metadata: [
                "outcomes": "\(outcomes.count)", "error": "\(error)",
            ])
        }
    }

    /// Stores `window` (nil: only what is held) into the spool through the backlog, and says so
    /// when the spool starts or stops refusing: once each, not per window.
    private func store(_ window: ShadowWindow?, through backlog: inout SealBacklog) {
        let wasFailing = !backlog.held.isEmpty
        let givenUpBefore = backlog.givenUpSinceEmpty
        var merges: [WindowSpool.Merge] = []
        var pendingBytes: Int?
        let outcome = backlog.seal(window) { unsequenced in
            let sealed = try spool.seal(unsequenced)
            if let merge = sealed.merge { merges.append(merge) }
            pendingBytes = sealed.pendingBytes
            return sealed.window
        }
        for merge in merges {
            metrics.spoolWindowsMerged.increment(by: Int64(merge.windowsMerged))
            logger.warning("the spool passed spool-max-bytes: merged its oldest unsent windows, keeping their counts", metadata: [
                "windows merged": "\(merge.windowsMerged)", "bytes freed": "\(merge.bytesFreed)", "spool-max-bytes": "\(spool.maxPendingBytes)",
            ])
        }
        if let pendingBytes { metrics.spoolPendingBytes.set(to: Double(pendingBytes)) }
        for sealed in outcome.stored {
            metrics.windowsSealed.increment()
            logger.debug("window sealed", metadata: ["sequence": "\(sealed.sequence)", "count": "\(sealed.count)"])
        }
        if !outcome.stored.isEmpty { notifier.signal() }
        metrics.windowsAwaitingSpool.set(to: Double(backlog.held.count))
        if outcome.givenUp > 0 {
            metrics.windowsGivenUp.increment(by: Int64(outcome.givenUp))
            if backlog.givenUpSinceEmpty == 1 {
                logger.error("the spool backlog is full: the oldest held windows are given up from now on", metadata: [
                    "capacity": "\(backlog.capacity)",
                ])
            }
        }
        if let failure = outcome.failure {
            metrics.spoolWriteFailures.increment()
            if !wasFailing {
                logger.error("the window spool cannot store windows (disk full?); holding them in memory until it can", metadata: [
                    "error": "\(failure)", "capacity": "\(backlog.capacity)",
                ])
            }
        } else if wasFailing {
            logger.notice("the window spool stores windows again", metadata: [
                "stored": "\(outcome.stored.count)", "given up": "\(givenUpBefore + outcome.givenUp)",
            ])
        }
    }
}

import FleetProtocol

/// Sealed windows the spool could not take yet (its disk full, its file unwritable), held in memory
/// in the order they were sealed until it can. The agent keeps answering requests and pairing
/// samples meanwhile: a full disk must not stop inference, and a window is numbered only when the
/// spool stores it, so the windows the coordinator sees stay in order without gaps.
///
/// Bounded: past `capacity` the oldest window is given up (counted and logged by the caller). Its
/// samples never reach the ledger, which makes the evidence smaller, not wrong.
struct SealBacklog {
    /// What one attempt to store the held windows did.
    struct Outcome: Equatable {
        /// Windows the spool stored, oldest first, with their sequence numbers.
        var stored: [ShadowWindow] = []
        /// The spool's error when it refused the next window; nil when every held window is stored.
        var failure: String?
        /// Windows given up because the backlog was full.
        var givenUp = 0
    }

    let capacity: Int
    private(set) var held: [ShadowWindow] = []
    /// Windows given up since the backlog was last empty (the current episode of a refusing spool).
    private(set) var givenUpSinceEmpty = 0

    init(capacity: Int) {
        precondition(capacity >= 1, "a backlog holds at least one window")
        self.capacity = capacity
    }

    /// Adds `window` (nil: only retry) and stores the held windows in order through `store` until it
    /// throws; the rest stay held.
    mutating func seal(_ window: ShadowWindow?, store: (ShadowWindow) throws -> ShadowWindow) -> Outcome {
        var outcome = Outcome()
        if let window {
            held.append(window)
            if held.count > capacity {
                held.removeFirst(held.count - capacity)
                outcome.givenUp = 1
                givenUpSinceEmpty += 1
            }
        }
        while let next = held.first {
            do {
                outcome.stored.append(try store(next))
                held.removeFirst()
            } catch {
                outcome.failure = "\(error)"
                break
            }
        }
        if held.isEmpty { givenUpSinceEmpty = 0 }
        assert(outcome.failure == nil || !held.isEmpty, "a failure leaves its window held")
        return outcome
    }
}

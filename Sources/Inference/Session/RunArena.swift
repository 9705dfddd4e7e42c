import NIOConcurrencyHelpers

/// The element buffers of a session's runs, planned from the run before: a run at shapes the arena
/// has seen takes every tensor and scratch buffer it asks for from here instead of the heap.
///
/// The session hands each run an arena of its own (`RunArenas`), so a run's operators reach it
/// through `RunArena.current` without locks. Operators ask for buffers (`take`) and the executor
/// gives a tensor's buffer back when its last reader has run (`recycle`). The arena records each
/// request's element type, count and lifetime (from its take to its recycling), and at the end of
/// a run whose requests differ from the plan's it plans again, as a static memory planner does at
/// load: requests by decreasing size, each into the first buffer of its element type whose other
/// requests' lifetimes do not overlap its own. The next run then has each request take its
/// planned buffer, so the arena holds about the peak of live tensors and the heap serves only the
/// buffers that leave a run (the outputs a caller keeps). A run that departs from the plan (other
/// input shapes) takes the best-fitting buffer it finds until it ends, and its requests become the
/// next plan.
///
/// A buffer still shared with a live tensor is copied on first write, as any Swift array, so
/// recycling never changes a value.
final class RunArena: @unchecked Sendable {  // used by one run at a time, handed over under RunArenas' lock
    /// A run's n-th request for a buffer.
    private struct Request {
        /// What a later run must ask for at the same point to follow the plan. The step tells
        /// apart requests that only one run makes (a cache an operator fills in its first run),
        /// which would otherwise shift every later request onto another's buffer unnoticed.
        struct Key: Equatable {
            let step: Int
            let element: ObjectIdentifier
            let count: Int
        }
        let key: Key
        /// The arena's clock when it was taken and when it came back (nil: it left the run).
        let taken: Int
        var recycled: Int?
    }

    /// A planned buffer: the requests given to it never live at once.
    private struct Slot {
        let element: ObjectIdentifier
        let capacity: Int
        /// The buffer, while no request holds it: an `[Element]`, which fits an existential's inline
        /// storage, so shelving boxes nothing.
        var shelved: Any?
    }

    /// A buffer outside the plan, for best fit.
    private struct Spare {
        let capacity: Int
        let elements: Any
    }

    private var plan: (requests: [Request.Key], slots: [Int?]) = ([], [])
    private var slots: [Slot] = []
    private var spares: [ObjectIdentifier: [Spare]] = [:]
    private var requests: [Request] = []
    /// This run's requests so far are the plan's (a new arena has none to follow).
    private var following = false
    private var clock = 0
    /// The executor's step in this run, set before each runs.
    var step = 0
    /// The request each buffer a request got serves, by its base address.
    private var holders: [UnsafeRawPointer: Int] = [:]
    /// The executor's lists, kept between runs so that they keep their capacity.
    var executorLists = ExecutorLists()

    /// The arena of the run on this thread (nil outside a session's run: buffers come from the heap).
    @TaskLocal static var current: RunArena?

    /// This run's next request, for `count` elements: its number (for `served`) and, when the arena
    /// has one, a buffer of `count` elements whose values callers overwrite (the planned buffer, or
    /// the smallest spare within about twice the size when the run left the plan).
    func take<Element>(_: Element.Type, count: Int) -> (elements: [Element]?, request: Int) {
        let element = ObjectIdentifier(Element.self), request = requests.count
        let key = Request.Key(step: step, element: element, count: count)
        requests.append(Request(key: key, taken: clock))
        clock += 1
        // Operators write over recycled elements without deinitializing them: plain values only.
        guard _isPOD(Element.self), count > 0 else { return (nil, request) }
        if following, request < plan.requests.count, plan.requests[request] == key {
            guard let slot = plan.slots[request] else { return (nil, request) }
            // Moved out of the slot in one statement, so `elements` is the buffer's only reference
            // and resizing it copies nothing.
            if var elements = slots[slot].shelved.take() as? [Element] {
                Self.resize(&elements, to: count)
                return (elements, request)
            }
            // The slot's first use: a buffer as large as its largest request, which writes every element.
            return ([Element](unsafeUninitializedCapacity: slots[slot].capacity) { $1 = count }, request)
        }
        if following { leavePlan() }
        guard let position = Self.bestFit(in: spares[element], for: count, upTo: 2 * count + 1024),
              var elements = spares[element]!.remove(at: position).elements as? [Element]
        else { return (nil, request) }
        Self.resize(&elements, to: count)
        return (elements, request)
    }

    /// Notes the buffer that served `request` (from `take` or the heap).
    func served<Element>(_ request: Int, by elements: [Element]) {
        if let address = Self.address(of: elements) { holders[address] = request }
    }

    /// Takes `elements` back: a later request of this run or the next may use its buffer.
    func recycle<Element>(_ elements: [Element]) {
        guard _isPOD(Element.self), let address = Self.address(of: elements) else { return }
        // A buffer no request of this run got (an operator made it on the heap) has no lifetime in
        // the plan and no slot: only a run off the plan keeps it, as a spare. A served buffer that
        // its operator dropped instead of giving back leaves its address behind, and the heap may
        // reuse it for such a buffer: only one of the request's type and count is the request's own.
        let request = holders.removeValue(forKey: address).flatMap { served in
            let key = requests[served].key
            return key.element == ObjectIdentifier(Element.self) && key.count == elements.count ? served : nil
        }
        if let request {
            requests[request].recycled = clock
            clock += 1
        }
        if following {
            if let request, request < plan.slots.count, let slot = plan.slots[request], slots[slot].shelved == nil,
               elements.capacity >= slots[slot].capacity {
                slots[slot].shelved = elements
            }
        } else {
            spares[ObjectIdentifier(Element.self), default: []].append(Spare(capacity: elements.capacity, elements: elements))
        }
    }

    func recycle(_ storage: TensorStorage) {
        // The types operators write into recycled buffers; the rarer ones go back to the heap.
        switch storage {
        case .float32(let values), .float16(let values): recycle(values)
        case .int8(let values), .int4(let values): recycle(values)
        case .uint8(let values), .uint4(let values): recycle(values)
        case .int32(let values): recycle(values)
        case .int64(let values): recycle(values)
        case .bool(let values): recycle(values)
        default: break
        }
    }

    /// Ends a run: a run that followed the plan to its end keeps it; any other plans again from its
    /// requests, keeping the buffers that fit the new slots and freeing the rest.
    func endRun() {
        if !following || requests.count != plan.requests.count {
            if following { leavePlan() }
            replan()
        }
        spares.removeAll()
        requests.removeAll(keepingCapacity: true)
        holders.removeAll(keepingCapacity: true)
        following = !plan.requests.isEmpty
        clock = 0
    }

    /// Puts every shelved slot buffer among the spares, for best fit through the rest of the run.
    private func leavePlan() {
        following = false
        for index in slots.indices {
            guard let shelved = slots[index].shelved else { continue }
            spares[slots[index].element, default: []].append(Spare(capacity: slots[index].capacity, elements: shelved))
        }
        slots.removeAll()
    }

    private func replan() {
        var assignment = [Int?](repeating: nil, count: requests.count)
        var lifetimes: [[Range<Int>]] = []
        var planned: [Slot] = []
        let placed = requests.indices
            .filter { requests[$0].recycled != nil && requests[$0].key.count > 0 }
            .sorted { requests[$0].key.count > requests[$1].key.count }
        for index in placed {
            let request = requests[index], lifetime = request.taken..<request.recycled!
            // Slots are made largest first, so every earlier slot of the type is large enough.
            if let slot = planned.indices.first(where: { slot in
                planned[slot].element == request.key.element && !lifetimes[slot].contains { $0.overlaps(lifetime) }
            }) {
                lifetimes[slot].append(lifetime)
                assignment[index] = slot
            } else {
                assignment[index] = planned.count
                planned.append(Slot(element: request.key.element, capacity: request.key.count, shelved: nil))
                lifetimes.append([lifetime])
            }
        }
        // The spares that hold a slot best, largest slots first; the others are freed.
        for slot in planned.indices {
            let element = planned[slot].element
            guard let position = Self.bestFit(in: spares[element], for: planned[slot].capacity) else { continue }
            planned[slot].shelved = spares[element]!.remove(at: position).elements
        }
        plan = (requests.map(\.key), assignment)
        slots = planned
    }

    /// The smallest spare of at least `count` elements (and at most `limit`). A position, not the
    /// spare: a copy of the shelf kept while a spare is taken off would share its buffer, and
    /// resizing a shared buffer copies it.
    private static func bestFit(in shelf: [Spare]?, for count: Int, upTo limit: Int = .max) -> Int? {
        guard let shelf else { return nil }
        return shelf.indices.lazy.filter { shelf[$0].capacity >= count && shelf[$0].capacity <= limit }
            .min { shelf[$0].capacity < shelf[$1].capacity }
    }

    /// `count` elements within the array's capacity, whose values callers overwrite: growing takes
    /// back the elements past the count unwritten (see `Unwritten`).
    private static func resize<Element>(_ elements: inout [Element], to count: Int) {
        precondition(count <= elements.capacity, "a buffer of \(elements.capacity) elements cannot hold \(count)")
        if elements.count > count {
            elements.removeLast(elements.count - count)
        } else if elements.count < count {
            elements.append(contentsOf: Unwritten(count: count - elements.count))
        }
    }

    private static func address<Element>(of elements: [Element]) -> UnsafeRawPointer? {
        elements.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
    }
}

/// What the executor holds during a run: every value slot, and the current step's operands and
/// results. Empty between runs (no tensor outlives its run here), with their capacity kept.
struct ExecutorLists {
    var values: [Value?] = []
    /// A tensor operator's operands and results.
    var operands: [Tensor?] = []
    var results: [Tensor] = []
    /// A value operator's.
    var valueOperands: [Value?] = []
    var valueResults: [Value?] = []

    mutating func clear() {
        values.removeAll(keepingCapacity: true)
        operands.removeAll(keepingCapacity: true)
        results.removeAll(keepingCapacity: true)
        valueOperands.removeAll(keepingCapacity: true)
        valueResults.removeAll(keepingCapacity: true)
    }
}

/// `count` elements that `append(contentsOf:)` counts as written without writing them, for growing
/// a recycled buffer of plain values within its capacity. Appending repeated values instead wrote
/// them one at a time (a sequence's default copy), which took 15 % of a detector run, for values
/// every caller overwrites. The memory past a buffer's count holds plain values of the same type
/// (a slot's buffer holds only one element type) or the untouched memory of a buffer the arena
/// made uninitialized, as `Array(unsafeUninitializedCapacity:)` does.
private struct Unwritten<Element>: Sequence {
    let count: Int

    var underestimatedCount: Int { count }

    func makeIterator() -> EmptyCollection<Element>.Iterator { EmptyCollection().makeIterator() }

    func _copyContents(initializing buffer: UnsafeMutableBufferPointer<Element>) -> (EmptyCollection<Element>.Iterator, Int) {
        precondition(buffer.count >= count, "only \(buffer.count) elements of capacity are left for \(count)")
        return (makeIterator(), count)
    }
}

/// The session's idle arenas: one per run in flight at most, reused by the next run.
final class RunArenas: Sendable {
    private let idle = NIOLockedValueBox<[RunArena]>([])

    /// Runs `body` with an idle arena (or a new one when every arena is in a run) as `RunArena.current`.
    func withArena<Result>(_ body: (RunArena) throws -> Result) rethrows -> Result {
        let arena = idle.withLockedValue { $0.popLast() } ?? RunArena()
        defer {
            arena.endRun()
            idle.withLockedValue { $0.append(arena) }
        }
        return try RunArena.$current.withValue(arena) { try body(arena) }
    }
}

extension Array {
    /// `count` elements written by `initialize`, which must write every one (a recycled buffer holds
    /// an earlier run's values), in a buffer from the running session's arena when it has one of
    /// that size. Same contract as `init(unsafeUninitializedCapacity:initializingWith:)`, and
    /// always inlined like it: callers' element loops vectorise only once `initialize` is inlined.
    @inline(__always)
    init(recycledCapacity count: Int,
         initializingWith initialize: (inout UnsafeMutableBufferPointer<Element>, inout Int) throws -> Void) rethrows {
        guard let arena = RunArena.current else {
            self = try Array(unsafeUninitializedCapacity: count, initializingWith: initialize)
            return
        }
        let (recycled, request) = arena.take(Element.self, count: count)
        if var recycled {
            try recycled.withUnsafeMutableBufferPointer { buffer in
                var written = 0
                try initialize(&buffer, &written)
                precondition(written == count, "a recycled buffer of \(count) elements was filled with \(written)")
            }
            self = recycled
        } else {
            self = try Array(unsafeUninitializedCapacity: count, initializingWith: initialize)
        }
        arena.served(request, by: self)
    }

    /// `count` copies of `value`, in a recycled buffer when the running session's arena has one.
    @inline(__always)
    init(recycledRepeating value: Element, count: Int) {
        self.init(recycledCapacity: count) { buffer, written in
            buffer.initialize(repeating: value)
            written = count
        }
    }

    /// `count` elements of scratch that the caller writes before it reads them (plain values only),
    /// in a recycled buffer when the running session's arena has one.
    @inline(__always)
    init(recycledUnwritten count: Int) {
        self.init(recycledCapacity: count) { $1 = count }
    }

    /// Gives this scratch buffer back to the running session's arena before it goes out of scope.
    func recycle() {
        RunArena.current?.recycle(self)
    }
}

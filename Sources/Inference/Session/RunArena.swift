import Synchronization

/// The element buffers of one run, kept for the next: a run at shapes the session has seen takes
/// its tensor and scratch buffers from here instead of the heap.
///
/// The session hands each run an arena of its own (`RunArenas`), so a run's operators reach it
/// through `RunArena.current` without locks. When a tensor dies (its last reader has run) the
/// executor shelves its buffer; an operator making a buffer takes the smallest shelved one of its
/// element type that is large enough, as a best-fit allocator would, so the arena holds about the
/// peak of live tensors rather than every tensor of the run. A buffer still shared with a live
/// tensor (a Reshape's view) is copied on first write, as any Swift array, so recycling never
/// changes a value. Buffers that a whole run neither took nor shelved belong to shapes no longer
/// seen and are freed.
final class RunArena: @unchecked Sendable {  // used by one run at a time, handed over under RunArenas' lock
    private struct Shelved {
        let capacity: Int
        /// An `[Element]`; an array fits an existential's inline buffer, so shelving boxes nothing.
        let elements: Any
        let run: Int
    }

    private var shelves: [ObjectIdentifier: [Shelved]] = [:]
    private var run = 0

    /// The arena of the run on this thread (nil outside a session's run: buffers come from the heap).
    @TaskLocal static var current: RunArena?

    /// A shelved buffer of at least `count` elements, resized to `count`, or nil when none fits
    /// within about twice the size. Growing repeats an old element: callers overwrite them all.
    func take<Element>(_: Element.Type, count: Int) -> [Element]? {
        let element = ObjectIdentifier(Element.self)
        guard count > 0, let shelf = shelves[element] else { return nil }
        var best: Int?
        for (index, candidate) in shelf.enumerated() where candidate.capacity >= count && candidate.capacity <= 2 * count + 1024 {
            if best.map({ candidate.capacity < shelf[$0].capacity }) ?? true { best = index }
        }
        guard let best, var elements = shelves[element]!.remove(at: best).elements as? [Element] else { return nil }
        if elements.count > count {
            elements.removeLast(elements.count - count)
        } else if elements.count < count {
            elements.append(contentsOf: repeatElement(elements[0], count: count - elements.count))
        }
        return elements
    }

    /// Shelves `elements` for a later `take` of its element type.
    func recycle<Element>(_ elements: [Element]) {
        // Operators write over recycled elements without deinitializing them: plain values only.
        guard !elements.isEmpty, _isPOD(Element.self) else { return }
        shelves[ObjectIdentifier(Element.self), default: []].append(
            Shelved(capacity: elements.capacity, elements: elements, run: run))
    }

    func recycle(_ storage: TensorStorage) {
        switch storage {
        case .float32(let values), .float16(let values): recycle(values)
        case .int8(let values), .int4(let values): recycle(values)
        case .uint8(let values), .uint4(let values): recycle(values)
        case .int32(let values): recycle(values)
        case .int64(let values): recycle(values)
        case .bool(let values): recycle(values)
        }
    }

    /// Frees what sat on the shelves through the whole run just ended.
    func endRun() {
        for element in shelves.keys where shelves[element]!.contains(where: { $0.run < run }) {
            shelves[element]!.removeAll { $0.run < run }
        }
        run += 1
    }
}

/// The session's idle arenas: one per run in flight at most, reused by the next run.
final class RunArenas: Sendable {
    private let idle = Mutex<[RunArena]>([])

    /// Runs `body` with an idle arena (or a new one when every arena is in a run) as `RunArena.current`.
    func withArena<Result>(_ body: (RunArena) throws -> Result) rethrows -> Result {
        let arena = idle.withLock { $0.popLast() } ?? RunArena()
        defer {
            arena.endRun()
            idle.withLock { $0.append(arena) }
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
        guard var recycled = RunArena.current?.take(Element.self, count: count) else {
            self = try Array(unsafeUninitializedCapacity: count, initializingWith: initialize)
            return
        }
        try recycled.withUnsafeMutableBufferPointer { buffer in
            var written = 0
            try initialize(&buffer, &written)
            precondition(written == count, "a recycled buffer of \(count) elements was filled with \(written)")
        }
        self = recycled
    }

    /// `count` copies of `value`, in a recycled buffer when the running session's arena has one.
    @inline(__always)
    init(recycledRepeating value: Element, count: Int) {
        self.init(recycledCapacity: count) { buffer, written in
            buffer.initialize(repeating: value)
            written = count
        }
    }

    /// Gives this scratch buffer back to the running session's arena before it goes out of scope.
    func recycle() {
        RunArena.current?.recycle(self)
    }
}

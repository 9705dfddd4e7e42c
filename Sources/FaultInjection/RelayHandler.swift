import NIOCore

/// Reads one side of a proxied connection and delivers the bytes to the other side as the link's
/// faults say: later (latency, jitter, a stall, a bandwidth cap), cut short, or never. Lives on the
/// event loop both channels share, so nothing here is locked but the link's state.
final class RelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// A TCP segment's payload on Ethernet: a capped link carries bytes at this grain.
    static let packetBytes = 1448
    /// Reading stops while this much waits for delivery, or while the last byte read would arrive more
    /// than `backlogAllowance` after its latency, and resumes once neither holds: a slow or stalled
    /// link slows its sender as TCP would, and what a lifted cap leaves queued drains in moments.
    static let highWatermark = 256 * 1024
    static let backlogAllowance = TimeAmount.milliseconds(500)
    /// The most one read takes from a socket, so that one read is not minutes of a slow link's time.
    static let readBytes = 16 * 1024

    private struct Segment {
        var bytes: ByteBuffer
        var deliverAt: NIODeadline
        /// Close both sides once this segment is delivered.
        var cuts: Bool
    }

    private let link: LinkState
    private let connection: ProxiedConnection
    /// nil for a connection accepted during a partition: nothing is ever connected behind it.
    private let partner: (any Channel)?
    private var source: (any Channel)?
    private var pacer = DeliveryPacer()
    private var queue = CircularBuffer<Segment>()
    private var queuedBytes = 0
    private var timer: Scheduled<Void>?
    private var readingPaused = false
    private var sourceClosed = false

    init(link: LinkState, connection: ProxiedConnection, partner: (any Channel)?) {
        self.link = link
        self.connection = connection
        self.partner = partner
    }

    func handlerAdded(context: ChannelHandlerContext) {
        source = context.channel
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        let read = buffer.readableBytes
        guard partner != nil, case .forward(let passing, let cuts) = connection.admit(read) else {
            link.count(dropped: read)
            return
        }
        link.count(dropped: read - passing)
        let faults = link.faults
        let grain = faults.bytesPerSecond == nil ? Int.max : Self.packetBytes
        let now = NIODeadline.now()
        var left = passing
        while left > 0, let piece = buffer.readSlice(length: min(grain, left)) {
            left -= piece.readableBytes
            let at = pacer.deliveryTime(of: piece.readableBytes, readAt: now, faults: faults, jitterDraw: Double.random(in: 0...1))
            queue.append(Segment(bytes: piece, deliverAt: at, cuts: false))
            queuedBytes += piece.readableBytes
        }
        if cuts {
            queue.append(Segment(bytes: ByteBuffer(), deliverAt: max(now, pacer.lastDelivery), cuts: true))
        }
        if !readingPaused, isBacklogged(at: now, faults: faults) {
            readingPaused = true
            try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
        }
        deliverDue(on: context.eventLoop)
    }

    func channelInactive(context: ChannelHandlerContext) {
        sourceClosed = true
        deliverDue(on: context.eventLoop)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func isBacklogged(at now: NIODeadline, faults: LinkFaults) -> Bool {
        queuedBytes > Self.highWatermark
            || pacer.lastDelivery > now + TimeAmount(faults.latency) + TimeAmount(faults.jitter) + Self.backlogAllowance
    }

    /// Delivers every segment that is due, then waits for the next one.
    private func deliverDue(on eventLoop: any EventLoop) {
        timer?.cancel()
        timer = nil
        let now = NIODeadline.now()
        var wrote = false
        while let head = queue.first, head.deliverAt <= now {
            queue.removeFirst()
            queuedBytes -= head.bytes.readableBytes
            // A connection killed while bytes were in flight delivers none of them.
            if connection.isDead {
                link.count(dropped: head.bytes.readableBytes)
                continue
            }
            if head.bytes.readableBytes > 0 {
                partner?.write(head.bytes, promise: nil)
                link.count(forwarded: head.bytes.readableBytes)
                wrote = true
            }
            if head.cuts {
                partner?.flush()
                queue.removeAll()
                queuedBytes = 0
                connection.close()
                return
            }
        }
        if wrote { partner?.flush() }
        if readingPaused, !isBacklogged(at: now, faults: link.faults) {
            readingPaused = false
            try? source?.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
        }
        if let head = queue.first {
            timer = eventLoop.assumeIsolated().scheduleTask(deadline: head.deliverAt) { self.deliverDue(on: eventLoop) }
        } else if sourceClosed, !connection.isDead {
            // The source ended cleanly and everything it sent is delivered: pass the end on. A dead
            // connection passes nothing on, its end included.
            partner?.close(promise: nil)
        }
    }
}

/// What a window measured beyond its decision counts: margin flips and top-5 overlap
/// (classification), nearest-neighbour agreement (embeddings), and its quantile sketches.
public struct WindowMeasures: Sendable, Equatable {
    public var marginFlips: Int
    public var topFiveSharedClasses: Int
    public var neighbours: AgreementCounts
    public var sketches: WindowSketches?

    public init(
        marginFlips: Int = 0, topFiveSharedClasses: Int = 0, neighbours: AgreementCounts = AgreementCounts(),
        sketches: WindowSketches? = nil
    ) {
        self.marginFlips = marginFlips
        self.topFiveSharedClasses = topFiveSharedClasses
        self.neighbours = neighbours
        self.sketches = sketches
    }

    public mutating func merge(_ other: WindowMeasures) {
        marginFlips += other.marginFlips
        topFiveSharedClasses += other.topFiveSharedClasses
        neighbours.merge(other.neighbours)
        if let theirs = other.sketches {
            var merged = sketches ?? WindowSketches()
            merged.merge(theirs)
            sketches = merged
        }
    }
}

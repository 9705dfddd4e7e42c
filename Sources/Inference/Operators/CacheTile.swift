/// How many rows (output positions, or rows of a product) an operator handles at a time so that a
/// tile's buffers stay in cache: a multiple of 16, the kernels' row and column blocks, and at least
/// `minimum`.
enum CacheTile {
    static func rows(ofBytes rowBytes: Int, within budget: Int, atLeast minimum: Int) -> Int {
        max(minimum, budget / max(rowBytes, 1) / 16 * 16)
    }
}

#include "kernel_table.h"

#include <string.h>

static size_t tiles_of(size_t n) { return (n + QF_TILE_COLUMNS - 1) / QF_TILE_COLUMNS; }
static size_t quads_of(size_t k) { return (k + 3) / 4; }

size_t qf_packed_s8_size(size_t k, size_t n) {
    return tiles_of(n) * quads_of(k) * QF_TILE_QUAD_BYTES;
}

int qf_pack_s8(const int8_t *b, size_t ldb, size_t k, size_t n,
               int8_t *packed, int32_t *column_sums) {
    size_t quads = quads_of(k);
    int pairs_fit_int16 = 1;
    memset(packed, 0, qf_packed_s8_size(k, n));
    for (size_t col = 0; col < n; col++) {
        int8_t *column = packed + (col / QF_TILE_COLUMNS * quads) * QF_TILE_QUAD_BYTES + col % QF_TILE_COLUMNS * 4;
        int32_t sum = 0;
        for (size_t row = 0; row < k; row += 2) {
            int8_t first = b[row * ldb + col], second = row + 1 < k ? b[(row + 1) * ldb + col] : 0;
            int8_t *quad = column + row / 4 * QF_TILE_QUAD_BYTES + row % 4;
            quad[0] = first;
            if (row + 1 < k) quad[1] = second;
            sum += first + second;
            pairs_fit_int16 &= (first < 0 ? -first : first) + (second < 0 ? -second : second) <= 128;
        }
        column_sums[col] = sum;
    }
    return pairs_fit_int16;
}

void qf_quad_rows(const uint8_t *a, size_t lda, size_t rows, size_t k, size_t quads, int32_t *x) {
    for (size_t r = 0; r < rows; r++) {
        uint8_t *x_row = (uint8_t *)(x + r * quads);
        memcpy(x_row, a + r * lda, k);
        memset(x_row + k, 0, 4 * quads - k);
    }
}

void qf_row_zero_terms(const uint8_t *a, size_t lda, size_t rows, size_t k, uint8_t a_zero, int32_t *terms) {
    for (size_t r = 0; r < rows; r++) {
        int32_t sum = 0;
        for (size_t i = 0; i < k; i++) sum += a[r * lda + i];
        terms[r] = sum - (int32_t)k * a_zero;
    }
}

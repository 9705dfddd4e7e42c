#include "CQuantKernels.h"

/* One portable implementation: tiles of 32 x 32 floats (4 KB in, 4 KB out) fit L1 on every target,
 * and the compiler vectorises the inner copy along the rows it writes. */
enum { TILE = 32 };

void qf_transpose_f32(const float *x, size_t rows, size_t columns, float *y) {
    for (size_t r0 = 0; r0 < rows; r0 += TILE) {
        size_t r1 = r0 + TILE < rows ? r0 + TILE : rows;
        for (size_t c0 = 0; c0 < columns; c0 += TILE) {
            size_t c1 = c0 + TILE < columns ? c0 + TILE : columns;
            for (size_t c = c0; c < c1; c++) {
                for (size_t r = r0; r < r1; r++) {
                    y[c * rows + r] = x[r * columns + c];
                }
            }
        }
    }
}

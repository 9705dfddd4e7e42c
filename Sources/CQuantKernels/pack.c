#include "CQuantKernels.h"

#include <string.h>

size_t qf_packed_s8_size(size_t k, size_t n) {
    size_t panels = (n + QF_PANEL_COLUMNS - 1) / QF_PANEL_COLUMNS;
    size_t k_pairs = (k + 1) / 2;
    return panels * k_pairs * 2 * QF_PANEL_COLUMNS;
}

void qf_pack_s8(const int8_t *b, size_t ldb, size_t k, size_t n,
                int8_t *packed, int32_t *column_sums) {
    size_t panels = (n + QF_PANEL_COLUMNS - 1) / QF_PANEL_COLUMNS;
    size_t k_pairs = (k + 1) / 2;
    memset(packed, 0, qf_packed_s8_size(k, n));
    for (size_t col = 0; col < n; col++) {
        column_sums[col] = 0;
    }
    for (size_t panel = 0; panel < panels; panel++) {
        for (size_t pair = 0; pair < k_pairs; pair++) {
            int8_t *block = packed + (panel * k_pairs + pair) * 2 * QF_PANEL_COLUMNS;
            for (size_t lane = 0; lane < QF_PANEL_COLUMNS; lane++) {
                size_t col = panel * QF_PANEL_COLUMNS + lane;
                if (col >= n) {
                    break;
                }
                for (size_t half = 0; half < 2; half++) {
                    size_t row = 2 * pair + half;
                    if (row < k) {
                        int8_t value = b[row * ldb + col];
                        block[2 * lane + half] = value;
                        column_sums[col] += value;
                    }
                }
            }
        }
    }
}

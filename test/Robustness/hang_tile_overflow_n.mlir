// RUN: rm -rf %t && mkdir -p %t && not fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t" -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer hang_tile_overflow_n of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): tile(128, 2^62), the same through the key
// tile.
// CHECK: error: 'fa4.attention' op tile (128, 4611686018427387904) cannot fit the 101376 B of shared memory of sm_120a

fa4.attention @k dtype(bf16) head_dim(64) head_dim_v(64) load_path(cp_async) stages(1) tile(128, 4611686018427387904)

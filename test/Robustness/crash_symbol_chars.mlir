// RUN: rm -rf %t && mkdir -p %t && not fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t" -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer crash_symbol_chars of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): @"a-b": NVPTX aborted on the symbol;
// emission checks names first.
// CHECK: error: gpu.module name 'a-b' is not a PTX identifier

fa4.attention @"a-b" dtype(bf16) head_dim(64) head_dim_v(64) load_path(cp_async) stages(1)

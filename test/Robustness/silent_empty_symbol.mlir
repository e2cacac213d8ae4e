// RUN: rm -rf %t && mkdir -p %t && not fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t" -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer silent_empty_symbol of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): @"": wrote OUT/.ptx with no entry and
// exited 0.
// CHECK: error: gpu.module name '' is not a PTX identifier

fa4.attention @"" dtype(bf16) head_dim(64) head_dim_v(64) load_path(cp_async) stages(1)

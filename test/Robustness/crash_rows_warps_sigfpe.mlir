// RUN: rm -rf %t && mkdir -p %t && not fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t" -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer crash_rows_warps_sigfpe of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): One-line form of crash00.
// CHECK: error: warps (1152921504606846976) must be in [1, 32]

func.func private @f(!fa4.rows<16, warps = 1152921504606846976>)

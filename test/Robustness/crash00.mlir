// RUN: rm -rf %t && mkdir -p %t && not fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t" -o /dev/null 2>&1 | FileCheck %s
// RUN: not fa4-opt %s --pass-pipeline='builtin.module(gpu.module(convert-fa4-to-nvvm))' -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer crash00 of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): The fuzzer's SIGFPE in the !fa4.rows
// verifier: 16 x warps wrapped to 0 (warps = 2^61). Warps are capped by the
// block size of the largest target.
// CHECK: error: warps (2305843009213693952) must be in [1, 32]

    %o2 = fa4.rescale %o by %c : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<64, warps = 2305843009213693952>

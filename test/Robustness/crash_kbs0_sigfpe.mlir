// RUN: not fa4-opt %s --pass-pipeline='builtin.module(gpu.module(convert-fa4-to-nvvm))' -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer crash_kbs0_sigfpe of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): known_block_size = [0, 1, 1]: a division
// by the thread count in the load lowering.
// (#nvvm.target added so that the input reaches the code that failed.)
// CHECK: error: 'fa4.load_tile' op needs known_block_size = [x, 1, 1] with x a multiple of 32 in [32, 1024], got array<i32: 0, 1, 1>

gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  gpu.func @m(%p: !llvm.ptr<1>, %i: i32) kernel attributes {known_block_size = array<i32: 0, 1, 1>} {
    fa4.scope "s" {
      %t = fa4.smem_buffer "T" at 0 : !fa4.smem<64x64xbf16>
      fa4.load_tile %p[%i] limit %i stride %i into %t : !fa4.smem<64x64xbf16>
    }
    gpu.return
  }
}

// RUN: not fa4-opt %s --pass-pipeline='builtin.module(gpu.module(convert-fa4-to-nvvm))' -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer hang_acc_huge of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): !fa4.acc<2^40x16>: the store lowering
// unrolled 2^35 elements.
// (#nvvm.target added so that the input reaches the code that failed.)
// CHECK: error: accumulator rows (1099511627776) over 1 warps do not fit the 255 registers of a thread

gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  gpu.func @m(%p: !llvm.ptr<1>, %i: i32, %f: f32) kernel attributes {known_block_size = array<i32: 256, 1, 1>, fa4.abi = ["p", "i", "f"], fa4.features = {}} {
    fa4.scope "s" {
      %a = fa4.splat %f : !fa4.acc<1099511627776x16xf32, warps = 1>
      fa4.store_tile %a, %p[%i] limit %i stride %i : !fa4.acc<1099511627776x16xf32, warps = 1> as bf16
      %b = fa4.smem_barriers "b" : !fa4.mbarriers<2>
      fa4.barrier_init %b arrivals(1) : !fa4.mbarriers<2>
    }
    gpu.return
  }
}

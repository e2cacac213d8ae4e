// RUN: rm -rf %t && mkdir -p %t && not fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t" -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer hang_mbarriers_overflow of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): !fa4.mbarriers<2^61>: 8 x count wrapped
// to 0 in shared-memory planning and the init loop ran 2^61 times.
// (#nvvm.target added so that the input reaches the code that failed.)
// CHECK: error: 2305843009213693952 mbarriers (8 B each) do not fit the 101376 B of shared memory a block can have

gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  gpu.func @m(%p: !llvm.ptr<1>, %i: i32, %f: f32) kernel attributes {known_block_size = array<i32: 256, 1, 1>, fa4.abi = ["p", "i", "f"], fa4.features = {}} {
    fa4.scope "s" {
      %a = fa4.splat %f : !fa4.acc<128x64xf32, warps = 8>
      fa4.store_tile %a, %p[%i] limit %i stride %i : !fa4.acc<128x64xf32, warps = 8> as bf16
      %b = fa4.smem_barriers "b" : !fa4.mbarriers<2305843009213693952>
      fa4.barrier_init %b arrivals(1) : !fa4.mbarriers<2305843009213693952>
    }
    gpu.return
  }
}

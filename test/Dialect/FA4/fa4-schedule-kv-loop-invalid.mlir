// RUN: fa4-opt %s --split-input-file --pass-pipeline='builtin.module(gpu.module(fa4-schedule-kv-loop))' --verify-diagnostics

// One stage refills K's buffer once the state update starts: a body that
// reads K after that point cannot be scheduled.

gpu.module @late_k [#nvvm.target<chip = "sm_120a">] {
  gpu.func @late_k(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %stride: i32,
                   %sq: i32, %sk: i32, %q_row: i32, %scale: f32) kernel
      attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "dense" {
      %begin, %full_begin, %full_end, %end = fa4.kv_range none rows(%q_row, 128) seqlen(%sq, %sk) block(64)
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %ninf = arith.constant 0xFF800000 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      %m0 = fa4.splat %ninf : !fa4.rows<128, warps = 8>
      %l0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
      %r:3 = fa4.kv_loop [%begin, %full_begin, %full_end, %end] stages(1)
          q %qt[%q_row] : !fa4.smem<128x64xbf16> #fa4.contiguous(%q, %stride, %sq : !llvm.ptr<1>, i32, i32)
          k #fa4.contiguous(%k, %stride, %sk : !llvm.ptr<1>, i32, i32)
          v #fa4.contiguous(%v, %stride, %sk : !llvm.ptr<1>, i32, i32)
          init(%o0, %m0, %l0) : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>,
           %o: !fa4.acc<128x64xf32, warps = 8>, %m: !fa4.rows<128, warps = 8>, %l: !fa4.rows<128, warps = 8>):
        %c64 = arith.constant 64 : i32
        %col = arith.muli %n, %c64 : i32
        %s = fa4.qk_mma %qa, %kb : !fa4.smem<128x64xbf16>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
        %sm = fa4.mask %s row %q_row col %col limit %sk : !fa4.acc<128x64xf32, warps = 8>
        %p, %m1, %l1, %c = fa4.online_softmax %sm, %m, %l scale %scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
        %o1 = fa4.rescale %o by %c : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
        %pa = fa4.pack_a %p : !fa4.acc<128x64xf32, warps = 8> -> !fa4.afrag<128x64xbf16, warps = 8>
        %o2 = fa4.pv_mma %pa, %vb, %o1 : !fa4.afrag<128x64xbf16, warps = 8>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
        // expected-error @+1 {{reads K after the running state is updated: the one-stage schedule refills K's buffer there}}
        %late = fa4.qk_mma %qa, %kb : !fa4.smem<128x64xbf16>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
        fa4.yield %o2, %m1, %l1 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
      }
      %out, %lse = fa4.finalize %r#0, %r#1, %r#2 scale %scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
      fa4.store_tile %out, %q[%q_row] limit %sq stride %stride : !fa4.acc<128x64xf32, warps = 8> as bf16
    }
    gpu.return
  }
}

// -----

// The schedule asks the module's target (register split, budgets).

// expected-error @+1 {{gpu.module 'no_target' has no #nvvm.target naming its chip}}
gpu.module @no_target {
  gpu.func @no_target(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %stride: i32,
                   %sq: i32, %sk: i32, %q_row: i32, %scale: f32) kernel
      attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "dense" {
      %begin, %full_begin, %full_end, %end = fa4.kv_range none rows(%q_row, 128) seqlen(%sq, %sk) block(64)
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %ninf = arith.constant 0xFF800000 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      %m0 = fa4.splat %ninf : !fa4.rows<128, warps = 8>
      %l0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
      %r:3 = fa4.kv_loop [%begin, %full_begin, %full_end, %end] stages(2)
          q %qt[%q_row] : !fa4.smem<128x64xbf16> #fa4.contiguous(%q, %stride, %sq : !llvm.ptr<1>, i32, i32)
          k #fa4.contiguous(%k, %stride, %sk : !llvm.ptr<1>, i32, i32)
          v #fa4.contiguous(%v, %stride, %sk : !llvm.ptr<1>, i32, i32)
          init(%o0, %m0, %l0) : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>,
           %o: !fa4.acc<128x64xf32, warps = 8>, %m: !fa4.rows<128, warps = 8>, %l: !fa4.rows<128, warps = 8>):
        %c64 = arith.constant 64 : i32
        %col = arith.muli %n, %c64 : i32
        %s = fa4.qk_mma %qa, %kb : !fa4.smem<128x64xbf16>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
        %sm = fa4.mask %s row %q_row col %col limit %sk : !fa4.acc<128x64xf32, warps = 8>
        %p, %m1, %l1, %c = fa4.online_softmax %sm, %m, %l scale %scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
        %o1 = fa4.rescale %o by %c : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
        %pa = fa4.pack_a %p : !fa4.acc<128x64xf32, warps = 8> -> !fa4.afrag<128x64xbf16, warps = 8>
        %o2 = fa4.pv_mma %pa, %vb, %o1 : !fa4.afrag<128x64xbf16, warps = 8>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
        fa4.yield %o2, %m1, %l1 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
      }
      %out, %lse = fa4.finalize %r#0, %r#1, %r#2 scale %scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
      fa4.store_tile %out, %q[%q_row] limit %sq stride %stride : !fa4.acc<128x64xf32, warps = 8> as bf16
    }
    gpu.return
  }
}

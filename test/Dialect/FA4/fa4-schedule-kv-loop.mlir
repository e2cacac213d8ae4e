// RUN: fa4-opt %s --split-input-file --pass-pipeline='builtin.module(gpu.module(fa4-schedule-kv-loop))' | FileCheck %s

// One stage, Q in registers (the body's Q is an !fa4.afrag): the guard
// loads Q and the last block's K, reads Q's fragments once Q has landed;
// each block waits, loads its V under Q K^T, and once the scores are
// computed (before the first op that reads the running state) waits again
// and prefetches the next block's K into the buffer K just left. The
// unmasked copy of the body has no fa4.mask.
// CHECK-LABEL: gpu.func @one_stage
// CHECK: %[[K:.*]] = fa4.smem_buffer "K" : !fa4.smem<64x64xbf16>
// CHECK: %[[V:.*]] = fa4.smem_buffer "V" : !fa4.smem<64x64xbf16>
// CHECK: %[[NONEMPTY:.*]] = arith.cmpi sgt, %end, %begin
// CHECK: fa4.guard %[[NONEMPTY]] else(
// CHECK:   %[[LAST:.*]] = arith.subi %end,
// CHECK:   %[[LASTROW:.*]] = arith.muli %[[LAST]],
// CHECK:   fa4.load_tile %{{.*}}[%{{.*}}] limit %{{.*}} stride %{{.*}} into %[[Q:.*]] : !fa4.smem<128x64xbf16>
// CHECK-NEXT: fa4.commit_loads
// CHECK-NEXT: fa4.load_tile %{{.*}}[%[[LASTROW]]] {{.*}} into %[[K]]
// CHECK-NEXT: fa4.commit_loads
// CHECK-NEXT: fa4.wait_loads {pending = 1 : i32}
// CHECK-NEXT: %[[QA:.*]] = fa4.load_a %[[Q]]
// CHECK:   scf.for
// CHECK:     %[[ROW:.*]] = arith.muli
// CHECK:     %[[NEXT:.*]] = arith.cmpi sgt, %{{.*}}, %begin
// CHECK:     fa4.wait_loads {pending = 0 : i32}
// CHECK-NEXT: fa4.load_tile %{{.*}}[%[[ROW]]] {{.*}} into %[[V]]
// CHECK-NEXT: fa4.commit_loads
// CHECK:     fa4.qk_mma %[[QA]], %[[K]]
// CHECK-NEXT: fa4.mask
// CHECK-NEXT: fa4.wait_loads {pending = 0 : i32}
// CHECK-NEXT: scf.if %[[NEXT]] {
// CHECK:       %[[PREV:.*]] = arith.subi %[[ROW]],
// CHECK-NEXT:   fa4.load_tile %{{.*}}[%[[PREV]]] {{.*}} into %[[K]]
// CHECK:     fa4.online_softmax
// CHECK:     fa4.pv_mma %{{.*}}, %[[V]],
// CHECK:   } {fa4.loop = "masked"}
// CHECK:   scf.for
// CHECK-NOT: fa4.mask
// CHECK:   } {fa4.loop = "unmasked"}
// CHECK-NEXT: fa4.yield
// CHECK: fa4.finalize

gpu.module @one_stage [#nvvm.target<chip = "sm_120a">] {
  gpu.func @one_stage(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %stride: i32,
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
      ^bb0(%n: i32, %qa: !fa4.afrag<128x64xbf16, warps = 8>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>,
           %o: !fa4.acc<128x64xf32, warps = 8>, %m: !fa4.rows<128, warps = 8>, %l: !fa4.rows<128, warps = 8>):
        %c64 = arith.constant 64 : i32
        %col = arith.muli %n, %c64 : i32
        %s = fa4.qk_mma %qa, %kb : !fa4.afrag<128x64xbf16, warps = 8>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
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

// -----

// Two stages: the K/V buffers ping-pong through the loops' iteration
// arguments; each block waits for its tiles, then prefetches the next
// block's K and V into the other stage.
// CHECK-LABEL: gpu.func @two_stages
// CHECK: %[[K0:.*]] = fa4.smem_buffer "K0"
// CHECK: %[[V0:.*]] = fa4.smem_buffer "V0"
// CHECK: %[[K1:.*]] = fa4.smem_buffer "K1"
// CHECK: %[[V1:.*]] = fa4.smem_buffer "V1"
// CHECK: fa4.guard
// CHECK:   fa4.load_tile {{.*}} into %[[K0]]
// CHECK-NEXT: fa4.load_tile {{.*}} into %[[V0]]
// CHECK-NEXT: fa4.commit_loads
// CHECK-NOT: fa4.load_a
// CHECK:   scf.for {{.*}} iter_args({{.*}}, %[[KC:.*]] = %[[K0]], %[[VC:.*]] = %[[V0]], %[[KN:.*]] = %[[K1]], %[[VN:.*]] = %[[V1]])
// CHECK:     fa4.wait_loads {pending = 0 : i32}
// CHECK-NEXT: scf.if
// CHECK:       fa4.load_tile {{.*}} into %[[KN]]
// CHECK-NEXT:   fa4.load_tile {{.*}} into %[[VN]]
// CHECK-NEXT:   fa4.commit_loads
// CHECK:     fa4.qk_mma %{{.*}}, %[[KC]]
// CHECK:     fa4.pv_mma %{{.*}}, %[[VC]],
// CHECK:     scf.yield %{{.*}}, %{{.*}}, %{{.*}}, %[[KN]], %[[VN]], %[[KC]], %[[VC]]

gpu.module @two_stages [#nvvm.target<chip = "sm_120a">] {
  gpu.func @two_stages(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %stride: i32,
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

// -----

// Paged K/V: the tiles the #fa4.paged kind loads. Its rows are indirect (a
// page-table read first), so each block's prefetch goes after the scores,
// not right after the barrier where every warp would wait for the table.
// CHECK-LABEL: gpu.func @paged
// CHECK: fa4.load_tile %{{.*}} into %{{.*}} : !fa4.smem<128x64xbf16>
// CHECK: fa4.load_paged_tile %{{.*}}[%{{.*}}] limit %{{.*}} stride %{{.*}} pages(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) into %{{.*}} : !fa4.smem<64x64xbf16>
// CHECK: fa4.load_paged_tile
// CHECK: scf.for
// CHECK:   fa4.wait_loads {pending = 0 : i32}
// CHECK-NOT: fa4.load_paged_tile
// CHECK:   fa4.qk_mma
// CHECK-NEXT: fa4.mask
// CHECK-NEXT: scf.if
// CHECK:     fa4.load_paged_tile
// CHECK:     fa4.load_paged_tile
// CHECK:   fa4.online_softmax
// CHECK-NOT: fa4.load_tile {{.*}} : !fa4.smem<64x64xbf16>

gpu.module @paged [#nvvm.target<chip = "sm_120a">] {
  gpu.func @paged(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %stride: i32,
                   %sq: i32, %sk: i32, %q_row: i32, %scale: f32, %table: !llvm.ptr<1>, %page: i32, %magic: i32, %shift: i32, %pstride: i64, %pages: i32) kernel
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
          k #fa4.paged(%k, %stride, %sk, %table, %page, %magic, %shift, %pstride, %pages : !llvm.ptr<1>, i32, i32, !llvm.ptr<1>, i32, i32, i32, i64, i32)
          v #fa4.paged(%v, %stride, %sk, %table, %page, %magic, %shift, %pstride, %pages : !llvm.ptr<1>, i32, i32, !llvm.ptr<1>, i32, i32, i32, i64, i32)
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

// -----

// TMA: a ring of full / empty mbarriers and Q's barrier; the producer warp
// group arms and loads Q once, then each block's K and V (waiting for the
// stage to be released from round 1 on); the MMA warps wait on full[s],
// run the body, release empty[s], and own everything after the loop. The
// module's target (sm_120a) has setmaxnreg: 40 / 232 registers.
// CHECK-LABEL: gpu.func @tma
// CHECK: %[[FULL:.*]] = fa4.smem_barriers "full" : !fa4.mbarriers<2>
// CHECK: %[[EMPTY:.*]] = fa4.smem_barriers "empty" : !fa4.mbarriers<2>
// CHECK: %[[QFULL:.*]] = fa4.smem_barriers "q_full" : !fa4.mbarriers<1>
// CHECK: fa4.barrier_init %[[FULL]] arrivals(1)
// CHECK: fa4.barrier_init %[[EMPTY]] arrivals(256)
// CHECK: fa4.barrier_init %[[QFULL]] arrivals(1)
// CHECK: fa4.warp_specialize consumer_warps(8) registers(40, 232) producer {
// CHECK:   fa4.barrier_arrive_tx %[[QFULL]][%{{.*}}] bytes(16384)
// CHECK:   fa4.tma_load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] into %{{.*}}, %[[QFULL]][%{{.*}}] : !fa4.smem<128x64xbf16>
// CHECK:   scf.for
// CHECK:     scf.if
// CHECK:       fa4.barrier_wait %[[EMPTY]]
// CHECK:     fa4.barrier_arrive_tx %[[FULL]][%{{.*}}] bytes(16384)
// CHECK:     fa4.tma_load {{.*}}, %[[FULL]]
// CHECK:     fa4.tma_load {{.*}}, %[[FULL]]
// CHECK:   } {fa4.loop = "producer"}
// CHECK: } consumers {
// CHECK:   fa4.guard
// CHECK:     fa4.barrier_wait %[[QFULL]]
// CHECK:     scf.for
// CHECK:       fa4.barrier_wait %[[FULL]]
// CHECK:       fa4.mask
// CHECK:       fa4.barrier_arrive %[[EMPTY]]
// CHECK:     } {fa4.loop = "masked"}
// CHECK:     scf.for
// CHECK-NOT:   fa4.mask
// CHECK:       fa4.barrier_arrive %[[EMPTY]]
// CHECK:     } {fa4.loop = "unmasked"}
// CHECK:   fa4.finalize
// CHECK:   fa4.store_tile
// CHECK: }
// CHECK-NEXT: }
// CHECK-NEXT: gpu.return

gpu.module @tma [#nvvm.target<chip = "sm_120a">] {
  gpu.func @tma(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %stride: i32,
                   %sq: i32, %sk: i32, %q_row: i32, %scale: f32, %qd: !llvm.ptr, %kd: !llvm.ptr, %vd: !llvm.ptr, %h: i32, %b: i32) kernel
      attributes {known_block_size = array<i32: 384, 1, 1>} {
    fa4.scope "dense" {
      %begin, %full_begin, %full_end, %end = fa4.kv_range none rows(%q_row, 128) seqlen(%sq, %sk) block(64)
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %ninf = arith.constant 0xFF800000 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      %m0 = fa4.splat %ninf : !fa4.rows<128, warps = 8>
      %l0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
      %r:3 = fa4.kv_loop [%begin, %full_begin, %full_end, %end] stages(2)
          q %qt[%q_row] : !fa4.smem<128x64xbf16> #fa4.tma(%qd, %h, %b : !llvm.ptr, i32, i32)
          k #fa4.tma(%kd, %h, %b : !llvm.ptr, i32, i32)
          v #fa4.tma(%vd, %h, %b : !llvm.ptr, i32, i32)
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

// -----

// A window's range (the local kind) has masked blocks on both sides of the
// unmasked ones. cp.async visits them in two loops, so the body is cloned
// twice: one masked loop over the right edge [full_end, end) then the left
// edge [begin, full_begin), each from the top down, carrying its block
// (below full_end comes full_begin - 1), whose last block prefetches
// full_end - 1; then [full_begin, full_end) without fa4.mask, prefetching
// down to full_begin. The prologue loads the masked loop's first block:
// end - 1, or full_begin - 1 when the right edge is empty.
// CHECK-LABEL: gpu.func @window_phases
// CHECK: fa4.kv_range local window
// CHECK: fa4.guard
// CHECK:   %[[NO_RIGHT:.*]] = arith.cmpi eq, %end, %full_end
// CHECK:   %[[ANY_LEFT:.*]] = arith.cmpi sgt, %full_begin, %begin
// CHECK:   %[[LEFT_FIRST:.*]] = arith.andi %[[NO_RIGHT]], %[[ANY_LEFT]]
// CHECK:   %[[LEFT_TOP:.*]] = arith.subi %full_begin, %{{.*}}
// CHECK:   %[[RIGHT_TOP:.*]] = arith.subi %end, %{{.*}}
// CHECK:   %[[FIRST:.*]] = arith.select %[[LEFT_FIRST]], %[[LEFT_TOP]], %[[RIGHT_TOP]]
// CHECK:   %[[FIRST_ROW:.*]] = arith.muli %[[FIRST]], %{{.*}}
// CHECK:   fa4.load_tile %{{.*}}[%[[FIRST_ROW]]]
// CHECK:   %[[RIGHT:.*]] = arith.subi %end, %full_end
// CHECK:   %[[LEFT:.*]] = arith.subi %full_begin, %begin
// CHECK:   %[[COUNT:.*]] = arith.addi %[[RIGHT]], %[[LEFT]]
// CHECK:   scf.for %[[P:.*]] = %{{.*}} to %[[COUNT]] {{.*}} iter_args({{.*}}, %[[N:.*]] = %[[FIRST]])
// CHECK:     %[[AT_GAP:.*]] = arith.cmpi eq, %[[N]], %full_end
// CHECK:     %[[GAP:.*]] = arith.subi %full_end, %full_begin
// CHECK:     %[[SKIP:.*]] = arith.select %[[AT_GAP]], %[[GAP]], %{{.*}}
// CHECK:     %[[BELOW:.*]] = arith.subi %[[N]], %{{.*}}
// CHECK:     %[[NEXT_N:.*]] = arith.subi %[[BELOW]], %[[SKIP]]
// CHECK:     %[[MORE:.*]] = arith.cmpi slt, %{{.*}}, %[[COUNT]]
// CHECK:     %[[ANY_UNMASKED:.*]] = arith.cmpi sgt, %full_end, %full_begin
// CHECK:     %[[HAS_NEXT:.*]] = arith.ori %[[MORE]], %[[ANY_UNMASKED]]
// CHECK:     fa4.mask
// CHECK:     scf.if %[[HAS_NEXT]]
// CHECK:       %[[FIRST_UNMASKED:.*]] = arith.subi %full_end, %{{.*}}
// CHECK:       arith.select %[[MORE]], %[[NEXT_N]], %[[FIRST_UNMASKED]]
// CHECK:     scf.yield {{.*}}, %[[NEXT_N]]
// CHECK:   } {fa4.loop = "masked"}
// CHECK:   arith.subi %full_end, %full_begin
// CHECK:   scf.for
// CHECK:     arith.cmpi sgt, %{{.*}}, %full_begin
// CHECK-NOT: fa4.mask
// CHECK:   } {fa4.loop = "unmasked"}
// CHECK-NEXT: fa4.yield

gpu.module @window_phases [#nvvm.target<chip = "sm_120a">] {
  gpu.func @window_phases(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %stride: i32,
                   %sq: i32, %sk: i32, %q_row: i32, %left: i32, %right: i32, %lo: i32,
                   %hi: i32, %scale: f32) kernel
      attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "dense" {
      %begin, %full_begin, %full_end, %end = fa4.kv_range local window(%left, %right) rows(%q_row, 128) seqlen(%sq, %sk) block(64)
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
        %sm = fa4.mask %s row %q_row col %col limit %sk diag_max %hi diag_min %lo : !fa4.acc<128x64xf32, warps = 8>
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

// -----

// A `descending` window loop (S_dmask's kernels) keeps FlashAttention-2's
// order, from end - 1 down to begin: the prologue loads end - 1, then one
// masked loop over [begin, end), prefetching down to begin.
// CHECK-LABEL: gpu.func @window_descending
// CHECK: fa4.kv_range local window
// CHECK: fa4.guard
// CHECK-NOT: arith.select
// CHECK:   %[[TOP:.*]] = arith.subi %end, %{{.*}}
// CHECK:   %[[TOP_ROW:.*]] = arith.muli %[[TOP]], %{{.*}}
// CHECK:   fa4.load_tile %{{.*}}[%[[TOP_ROW]]]
// CHECK:   arith.subi %end, %begin
// CHECK:   scf.for
// CHECK:     arith.cmpi sgt, %{{.*}}, %begin
// CHECK:     fa4.mask
// CHECK:   } {fa4.loop = "masked"}
// CHECK-NEXT: fa4.yield

gpu.module @window_descending [#nvvm.target<chip = "sm_120a">] {
  gpu.func @window_descending(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %stride: i32,
                   %sq: i32, %sk: i32, %q_row: i32, %left: i32, %right: i32, %lo: i32,
                   %hi: i32, %scale: f32) kernel
      attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "dense" {
      %begin, %full_begin, %full_end, %end = fa4.kv_range local window(%left, %right) rows(%q_row, 128) seqlen(%sq, %sk) block(64)
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %ninf = arith.constant 0xFF800000 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      %m0 = fa4.splat %ninf : !fa4.rows<128, warps = 8>
      %l0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
      %r:3 = fa4.kv_loop [%begin, %full_begin, %full_end, %end] stages(1) descending
          q %qt[%q_row] : !fa4.smem<128x64xbf16> #fa4.contiguous(%q, %stride, %sq : !llvm.ptr<1>, i32, i32)
          k #fa4.contiguous(%k, %stride, %sk : !llvm.ptr<1>, i32, i32)
          v #fa4.contiguous(%v, %stride, %sk : !llvm.ptr<1>, i32, i32)
          init(%o0, %m0, %l0) : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>,
           %o: !fa4.acc<128x64xf32, warps = 8>, %m: !fa4.rows<128, warps = 8>, %l: !fa4.rows<128, warps = 8>):
        %c64 = arith.constant 64 : i32
        %col = arith.muli %n, %c64 : i32
        %s = fa4.qk_mma %qa, %kb : !fa4.smem<128x64xbf16>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
        %sm = fa4.mask %s row %q_row col %col limit %sk diag_max %hi diag_min %lo : !fa4.acc<128x64xf32, warps = 8>
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

// -----

// Split-KV: the seed's empty-range guard. A split past the m-block's blocks
// has end <= begin; the whole loop program (loads included) sits under the
// guard, whose skipped path yields the loop's init: O = 0, m = -inf, l = 0,
// from which fa4.finalize gives O = 0 and LSE = -inf, and the partials are
// stored from the guard's results, defined on both paths. Two stages, no
// left-edge phase (a causal split range keeps full_begin = begin).
// CHECK-LABEL: gpu.func @split_empty_guard
// CHECK: %[[O0:.*]] = fa4.splat %{{.*}} : !fa4.acc<64x64xf32, warps = 4>
// CHECK: %[[M0:.*]] = fa4.splat %{{.*}} : !fa4.rows<64, warps = 4>
// CHECK: %[[L0:.*]] = fa4.splat %{{.*}} : !fa4.rows<64, warps = 4>
// CHECK: %[[NONEMPTY:.*]] = arith.cmpi sgt, %[[END:.*]], %[[BEGIN:.*]] : i32
// CHECK: %[[R:.*]]:3 = fa4.guard %[[NONEMPTY]] else(%[[O0]], %[[M0]], %[[L0]] :
// CHECK:   fa4.load_tile
// CHECK:   scf.for
// CHECK:   } {fa4.loop = "masked"}
// CHECK:   scf.for
// CHECK:   } {fa4.loop = "unmasked"}
// CHECK-NOT: fa4.loop = "masked"
// CHECK:   fa4.yield
// CHECK: %[[OUT:.*]], %[[LSE:.*]] = fa4.finalize %[[R]]#0, %[[R]]#1, %[[R]]#2
// CHECK: fa4.store_tile %[[OUT]]
// CHECK: fa4.store_rows %[[LSE]]
gpu.module @split_empty_guard [#nvvm.target<chip = "sm_120a">] {
  gpu.func @split_empty_guard(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %stride: i32,
                   %sq: i32, %sk: i32, %q_row: i32, %scale: f32, %split: i32, %splits: i32) kernel
      attributes {known_block_size = array<i32: 128, 1, 1>} {
    fa4.scope "cache" {
      %begin, %full_begin, %full_end, %end = fa4.kv_range causal rows(%q_row, 64) seqlen(%sq, %sk) block(64) split(%split of %splits)
      %qt = fa4.smem_buffer "Q" : !fa4.smem<64x64xbf16>
      %zero = arith.constant 0.0 : f32
      %ninf = arith.constant 0xFF800000 : f32
      %o0 = fa4.splat %zero : !fa4.acc<64x64xf32, warps = 4>
      %m0 = fa4.splat %ninf : !fa4.rows<64, warps = 4>
      %l0 = fa4.splat %zero : !fa4.rows<64, warps = 4>
      %r:3 = fa4.kv_loop [%begin, %full_begin, %full_end, %end] stages(2)
          q %qt[%q_row] : !fa4.smem<64x64xbf16> #fa4.contiguous(%q, %stride, %sq : !llvm.ptr<1>, i32, i32)
          k #fa4.contiguous(%k, %stride, %sk : !llvm.ptr<1>, i32, i32)
          v #fa4.contiguous(%v, %stride, %sk : !llvm.ptr<1>, i32, i32)
          init(%o0, %m0, %l0) : !fa4.acc<64x64xf32, warps = 4>, !fa4.rows<64, warps = 4>, !fa4.rows<64, warps = 4> {
      ^bb0(%n: i32, %qa: !fa4.smem<64x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>,
           %o: !fa4.acc<64x64xf32, warps = 4>, %m: !fa4.rows<64, warps = 4>, %l: !fa4.rows<64, warps = 4>):
        %c64 = arith.constant 64 : i32
        %col = arith.muli %n, %c64 : i32
        %s = fa4.qk_mma %qa, %kb : !fa4.smem<64x64xbf16>, !fa4.smem<64x64xbf16> -> !fa4.acc<64x64xf32, warps = 4>
        %sm = fa4.mask %s row %q_row col %col limit %sk : !fa4.acc<64x64xf32, warps = 4>
        %p, %m1, %l1, %c = fa4.online_softmax %sm, %m, %l scale %scale : !fa4.acc<64x64xf32, warps = 4>, !fa4.rows<64, warps = 4>
        %o1 = fa4.rescale %o by %c : !fa4.acc<64x64xf32, warps = 4>, !fa4.rows<64, warps = 4>
        %pa = fa4.pack_a %p : !fa4.acc<64x64xf32, warps = 4> -> !fa4.afrag<64x64xbf16, warps = 4>
        %o2 = fa4.pv_mma %pa, %vb, %o1 : !fa4.afrag<64x64xbf16, warps = 4>, !fa4.smem<64x64xbf16> -> !fa4.acc<64x64xf32, warps = 4>
        fa4.yield %o2, %m1, %l1 : !fa4.acc<64x64xf32, warps = 4>, !fa4.rows<64, warps = 4>, !fa4.rows<64, warps = 4>
      }
      %out, %lse = fa4.finalize %r#0, %r#1, %r#2 scale %scale : !fa4.acc<64x64xf32, warps = 4>, !fa4.rows<64, warps = 4>
      fa4.store_tile %out, %q[%q_row] limit %sq stride %stride : !fa4.acc<64x64xf32, warps = 4> as f32
      fa4.store_rows %lse, %v[%q_row] limit %sq : !fa4.rows<64, warps = 4>
    }
    gpu.return
  }
}

// -----

// Block lists (block-sparse), two stages: the visit positions are the mask
// list's entries x r tiles, then the full list's; the guard tests that
// there are any. Position p is tile t = p % r of entry E = p / r over both
// lists (the full list's from E = mask_count), tracked as (E, t) and
// advanced by a compare, with no division; its block is the entry (read
// from its list, clamped to the first entry past the keys, ceil(end / r))
// times r plus r - 1 - t. The prologue loads the first listed block and
// carries it with the second and the (E, t) of the third; each iteration
// reads the entry two positions ahead. The mask list runs the masked body;
// the full list chooses by block: the unmasked body inside [full_begin,
// full_end), else the mask without its diagonal.
// CHECK-LABEL: gpu.func @block_lists
// CHECK: %[[MASK_END:.*]] = arith.muli %arg10, %arg13 : i32
// CHECK: %[[FULL_TILES:.*]] = arith.muli %arg12, %arg13 : i32
// CHECK: %[[TOTAL:.*]] = arith.addi %[[MASK_END]], %[[FULL_TILES]] : i32
// CHECK: %[[ENTRIES:.*]] = arith.addi %arg10, %arg12 : i32
// CHECK: %[[LAST:.*]] = arith.subi %[[ENTRIES]], %{{.*}} : i32
// CHECK: %[[LIMIT:.*]] = arith.divui %{{.*}}, %arg13 : i32
// CHECK: %[[ANY:.*]] = arith.cmpi sgt, %[[TOTAL]], %{{.*}} : i32
// CHECK: fa4.guard %[[ANY]] else(
// CHECK:   %[[SAFE:.*]] = arith.minsi %{{.*}}, %[[LAST]] : i32
// CHECK:   %[[IN_FULL:.*]] = arith.cmpi sge, %[[SAFE]], %arg10 : i32
// CHECK:   %[[INDEX:.*]] = arith.select %[[IN_FULL]], %{{.*}}, %[[SAFE]] : i32
// CHECK:   %[[LIST:.*]] = arith.select %[[IN_FULL]], %arg11, %arg9 : !llvm.ptr<1>
// CHECK:   %[[ENTRY_AT:.*]] = llvm.getelementptr %[[LIST]][%[[INDEX]]] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, i32
// CHECK:   %[[ENTRY:.*]] = llvm.load %[[ENTRY_AT]] {alignment = 4 : i64} : !llvm.ptr<1> -> i32
// CHECK:   %[[CLAMPED:.*]] = arith.minui %[[ENTRY]], %[[LIMIT]] : i32
// CHECK:   %[[SCALED:.*]] = arith.muli %[[CLAMPED]], %arg13 : i32
// CHECK:   %[[FIRST:.*]] = arith.addi %[[SCALED]], %{{.*}} : i32
// CHECK:   %[[WRAP:.*]] = arith.cmpi eq, %{{.*}}, %arg13 : i32
// CHECK:   %[[FIRST_ROW:.*]] = arith.muli %[[FIRST]], %{{.*}} : i32
// CHECK:   fa4.load_tile %{{.*}}[%[[FIRST_ROW]]] {{.*}} into %[[K0:.*]] :
// CHECK:   %{{.*}}:11 = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(
// CHECK-NOT:  arith.divui
// CHECK:     llvm.load
// CHECK:     fa4.mask %{{.*}} row %arg6 col %{{.*}} limit %arg5 diag_max %arg8
// CHECK:   } {fa4.loop = "mask_list"}
// CHECK:   scf.for
// CHECK:     %[[LO:.*]] = arith.cmpi sge, %{{.*}}, %full_begin : i32
// CHECK:     %[[HI:.*]] = arith.cmpi slt, %{{.*}}, %full_end : i32
// CHECK:     %[[INSIDE:.*]] = arith.andi %[[LO]], %[[HI]] : i1
// CHECK:     scf.if %[[INSIDE]] -> (!fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) {
// CHECK-NOT:   fa4.mask
// CHECK:       fa4.online_softmax
// CHECK:     } else {
// CHECK:       fa4.mask %{{.*}} row %arg6 col %{{.*}} limit %arg5 :
// CHECK:       fa4.online_softmax
// CHECK:   } {fa4.loop = "full_list"}
// CHECK-NEXT: fa4.yield
gpu.module @block_lists [#nvvm.target<chip = "sm_120a">] {
  gpu.func @block_lists(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %stride: i32,
                        %sq: i32, %sk: i32, %q_row: i32, %scale: f32, %diag: i32,
                        %mask: !llvm.ptr<1>, %mask_count: i32, %full: !llvm.ptr<1>,
                        %full_count: i32, %ratio: i32) kernel
      attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "dense" {
      %begin, %full_begin, %full_end, %end = fa4.kv_range none rows(%q_row, 128) seqlen(%sq, %sk) block(64)
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %ninf = arith.constant 0xFF800000 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      %m0 = fa4.splat %ninf : !fa4.rows<128, warps = 8>
      %l0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
      %r:3 = fa4.kv_loop [%begin, %full_begin, %full_end, %end]
          lists(%mask[%mask_count], %full[%full_count]) per(%ratio) stages(2)
          q %qt[%q_row] : !fa4.smem<128x64xbf16> #fa4.contiguous(%q, %stride, %sq : !llvm.ptr<1>, i32, i32)
          k #fa4.contiguous(%k, %stride, %sk : !llvm.ptr<1>, i32, i32)
          v #fa4.contiguous(%v, %stride, %sk : !llvm.ptr<1>, i32, i32)
          init(%o0, %m0, %l0) : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8> {
      ^bb0(%n: i32, %qs: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>,
           %o: !fa4.acc<128x64xf32, warps = 8>, %m: !fa4.rows<128, warps = 8>, %l: !fa4.rows<128, warps = 8>):
        %c64 = arith.constant 64 : i32
        %col = arith.muli %n, %c64 : i32
        %s = fa4.qk_mma %qs, %kb : !fa4.smem<128x64xbf16>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
        %sm = fa4.mask %s row %q_row col %col limit %sk diag_max %diag : !fa4.acc<128x64xf32, warps = 8>
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

// RUN: fa4-opt %s | fa4-opt | FileCheck %s
// RUN: fa4-opt %s --mlir-print-op-generic | fa4-opt | FileCheck %s

// CHECK-LABEL: fa4.attention @dense_bf16
// CHECK-SAME: dtype(bf16) head_dim(128) head_dim_v(128)
// CHECK-SAME: load_path(cp_async) stages(1)
fa4.attention @dense_bf16 dtype(bf16) head_dim(128) head_dim_v(128)
    load_path(cp_async) stages(1)

// CHECK-LABEL: fa4.attention @varlen_paged
// CHECK-SAME: causal varlen paged_kv load_path(cp_async) stages(2)
fa4.attention @varlen_paged dtype(bf16) head_dim(128) head_dim_v(128) causal
    varlen paged_kv load_path(cp_async) stages(2)

// CHECK-LABEL: fa4.attention @causal_f16
// CHECK-SAME: dtype(f16) head_dim(64) head_dim_v(64) causal
// CHECK-SAME: load_path(cp_async) stages(2)
fa4.attention @causal_f16 dtype(f16) head_dim(64) head_dim_v(64) causal
    load_path(cp_async) stages(2)

// CHECK-LABEL: fa4.attention @pinned
// CHECK-SAME: tile(128, 64) warps(8) q_in_registers(true) target(sm_121a)
fa4.attention @pinned dtype(bf16) head_dim(96) head_dim_v(96) load_path(cp_async)
    stages(1) tile(128, 64) warps(8) q_in_registers(true) target(sm_121a)

// The block-level program's types and ops.
// CHECK-LABEL: gpu.func @block_program
gpu.module @block {
  gpu.func @block_program(%q: !llvm.ptr<1>, %row: i32, %limit: i32, %stride: i32,
                          %scale: f32) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "dense" {
      // CHECK: fa4.smem_buffer "Q" : !fa4.smem<128x128xbf16>
      %sq = fa4.smem_buffer "Q" : !fa4.smem<128x128xbf16>
      // CHECK: fa4.smem_buffer "K" at 32768 : !fa4.smem<64x128xbf16>
      %sk = fa4.smem_buffer "K" at 32768 : !fa4.smem<64x128xbf16>
      %sv = fa4.smem_buffer "V" at 49152 : !fa4.smem<64x128xbf16>
      // CHECK: fa4.load_tile %{{.*}}[%{{.*}}] limit %{{.*}} stride %{{.*}} into %{{.*}} : !fa4.smem<128x128xbf16>
      fa4.load_tile %q[%row] limit %limit stride %stride into %sq : !fa4.smem<128x128xbf16>
      // CHECK: fa4.commit_loads
      fa4.commit_loads
      // CHECK: fa4.wait_loads {pending = 0 : i32}
      fa4.wait_loads {pending = 0 : i32}
      %zero = arith.constant 0.0 : f32
      %ninf = arith.constant 0xFF800000 : f32
      // CHECK: fa4.splat %{{.*}} : !fa4.acc<128x128xf32, warps = 8>
      %o0 = fa4.splat %zero : !fa4.acc<128x128xf32, warps = 8>
      // CHECK: fa4.splat %{{.*}} : !fa4.rows<128, warps = 8>
      %m0 = fa4.splat %ninf : !fa4.rows<128, warps = 8>
      %l0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
      // CHECK: fa4.load_a %{{.*}} : !fa4.smem<128x128xbf16> -> !fa4.afrag<128x128xbf16, warps = 8>
      %qa = fa4.load_a %sq : !fa4.smem<128x128xbf16> -> !fa4.afrag<128x128xbf16, warps = 8>
      // CHECK: fa4.qk_mma %{{.*}}, %{{.*}} : !fa4.afrag<128x128xbf16, warps = 8>, !fa4.smem<64x128xbf16> -> !fa4.acc<128x64xf32, warps = 8>
      %s = fa4.qk_mma %qa, %sk : !fa4.afrag<128x128xbf16, warps = 8>, !fa4.smem<64x128xbf16> -> !fa4.acc<128x64xf32, warps = 8>
      // CHECK: fa4.qk_mma %{{.*}}, %{{.*}} : !fa4.smem<128x128xbf16>, !fa4.smem<64x128xbf16>
      %s2 = fa4.qk_mma %sq, %sk : !fa4.smem<128x128xbf16>, !fa4.smem<64x128xbf16> -> !fa4.acc<128x64xf32, warps = 8>
      // CHECK: fa4.mask %{{.*}} row %{{.*}} col %{{.*}} limit %{{.*}} diag_max %{{.*}} : !fa4.acc<128x64xf32, warps = 8>
      %sm = fa4.mask %s row %row col %row limit %limit diag_max %limit : !fa4.acc<128x64xf32, warps = 8>
      // CHECK: fa4.mask %{{.*}} row %{{.*}} col %{{.*}} limit %{{.*}} diag_max %{{.*}} diag_min %{{.*}} : !fa4.acc<128x64xf32, warps = 8>
      %sw = fa4.mask %s row %row col %row limit %limit diag_max %limit diag_min %row : !fa4.acc<128x64xf32, warps = 8>
      // CHECK: fa4.softcap %{{.*}} scale %{{.*}} : !fa4.acc<128x64xf32, warps = 8>
      %sc = fa4.softcap %s scale %scale : !fa4.acc<128x64xf32, warps = 8>
      // CHECK: fa4.softcap %{{.*}} scale %{{.*}} if %{{.*}} : !fa4.acc<128x64xf32, warps = 8>
      %on = arith.cmpf one, %scale, %zero : f32
      %sco = fa4.softcap %s scale %scale if %on : !fa4.acc<128x64xf32, warps = 8>
      // CHECK: fa4.alibi %{{.*}} row %{{.*}} col %{{.*}} diag %{{.*}} slope %{{.*}} : !fa4.acc<128x64xf32, warps = 8>
      %sa = fa4.alibi %s row %row col %row diag %limit slope %scale : !fa4.acc<128x64xf32, warps = 8>
      // CHECK: fa4.dropout_mask row %{{.*}} col %{{.*}} seed(%{{.*}}, %{{.*}}) stream(%{{.*}}, %{{.*}}) keep %{{.*}} : !fa4.acc<128x64xf32, warps = 8> -> vector<1xi32>
      %bits = fa4.dropout_mask row %row col %row seed(%row, %limit) stream(%row, %limit) keep %limit : !fa4.acc<128x64xf32, warps = 8> -> vector<1xi32>
      // CHECK: fa4.dropout %{{.*}} bits %{{.*}} : !fa4.acc<128x64xf32, warps = 8>, vector<1xi32>
      %sd = fa4.dropout %s bits %bits : !fa4.acc<128x64xf32, warps = 8>, vector<1xi32>
      // CHECK: fa4.dropout %{{.*}} bits %{{.*}} negated : !fa4.acc<128x64xf32, warps = 8>, vector<1xi32>
      %sn = fa4.dropout %s bits %bits negated : !fa4.acc<128x64xf32, warps = 8>, vector<1xi32>
      // CHECK: fa4.mask %{{.*}} row %{{.*}} col %{{.*}} limit %{{.*}} : !fa4.acc<128x64xf32, warps = 8>
      %sm2 = fa4.mask %s2 row %row col %row limit %limit : !fa4.acc<128x64xf32, warps = 8>
      // CHECK: %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} = fa4.online_softmax %{{.*}}, %{{.*}}, %{{.*}} scale %{{.*}}
      %p, %m1, %l1, %corr = fa4.online_softmax %sm, %m0, %l0 scale %scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
      // CHECK: fa4.rescale %{{.*}} by %{{.*}}
      %o1 = fa4.rescale %o0 by %corr : !fa4.acc<128x128xf32, warps = 8>, !fa4.rows<128, warps = 8>
      // CHECK: fa4.pack_a %{{.*}} : !fa4.acc<128x64xf32, warps = 8> -> !fa4.afrag<128x64xbf16, warps = 8>
      %pa = fa4.pack_a %p : !fa4.acc<128x64xf32, warps = 8> -> !fa4.afrag<128x64xbf16, warps = 8>
      // CHECK: fa4.pv_mma %{{.*}}, %{{.*}}, %{{.*}} : !fa4.afrag<128x64xbf16, warps = 8>, !fa4.smem<64x128xbf16> -> !fa4.acc<128x128xf32, warps = 8>
      %o2 = fa4.pv_mma %pa, %sv, %o1 : !fa4.afrag<128x64xbf16, warps = 8>, !fa4.smem<64x128xbf16> -> !fa4.acc<128x128xf32, warps = 8>
      %nonempty = arith.cmpi sgt, %limit, %row : i32
      // CHECK: fa4.guard %{{.*}} else(%{{.*}}, %{{.*}}, %{{.*}} : !fa4.acc<128x128xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>)
      // CHECK: fa4.yield
      %r:3 = fa4.guard %nonempty else(%o0, %m0, %l0 : !fa4.acc<128x128xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) {
        fa4.yield %o2, %m1, %l1 : !fa4.acc<128x128xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
      }
      // CHECK: fa4.finalize %{{.*}}, %{{.*}}, %{{.*}} scale %{{.*}}
      %out, %lse = fa4.finalize %r#0, %r#1, %r#2 scale %scale : !fa4.acc<128x128xf32, warps = 8>, !fa4.rows<128, warps = 8>
      // CHECK: fa4.store_tile %{{.*}}, %{{.*}}[%{{.*}}] limit %{{.*}} stride %{{.*}} : !fa4.acc<128x128xf32, warps = 8> as bf16
      fa4.store_tile %out, %q[%row] limit %limit stride %stride : !fa4.acc<128x128xf32, warps = 8> as bf16
      // CHECK: fa4.store_rows %{{.*}}, %{{.*}}[%{{.*}}] limit %{{.*}} : !fa4.rows<128, warps = 8>
      fa4.store_rows %lse, %q[%row] limit %limit : !fa4.rows<128, warps = 8>
      // CHECK: fa4.variant "block_sparse"
      // CHECK: } else {
      fa4.variant "block_sparse" {
        fa4.scope "block_sparse" {}
      } else {
        fa4.scope "inner_dense" {}
      }
    }
    gpu.return
  }
}

// CHECK-LABEL: fa4.attention @tma_bf16
// CHECK-SAME: load_path(tma) stages(2)
fa4.attention @tma_bf16 dtype(bf16) head_dim(128) head_dim_v(128) causal
    load_path(tma) stages(2)

// The warp-specialized TMA program: a barrier ring between one producer
// thread and the MMA warps.
// CHECK-LABEL: gpu.func @tma_program
gpu.module @tma {
  gpu.func @tma_program(%desc: !llvm.ptr, %row: i32, %head: i32, %batch: i32,
                        %i: i32, %phase: i32) kernel attributes {known_block_size = array<i32: 384, 1, 1>} {
    fa4.scope "dense" {
      %sk = fa4.smem_buffer "K0" at 0 : !fa4.smem<64x128xbf16>
      // CHECK: %[[FULL:.*]] = fa4.smem_barriers "full" at 16384 : !fa4.mbarriers<2>
      %full = fa4.smem_barriers "full" at 16384 : !fa4.mbarriers<2>
      // CHECK: %[[EMPTY:.*]] = fa4.smem_barriers "empty" : !fa4.mbarriers<2>
      %empty = fa4.smem_barriers "empty" : !fa4.mbarriers<2>
      // CHECK: fa4.barrier_init %[[FULL]] arrivals(1) : !fa4.mbarriers<2>
      fa4.barrier_init %full arrivals(1) : !fa4.mbarriers<2>
      // CHECK: fa4.warp_specialize consumer_warps(8) registers(40, 232) producer {
      fa4.warp_specialize consumer_warps(8) registers(40, 232) producer {
        // CHECK: fa4.barrier_wait %[[EMPTY]][%{{.*}}] phase %{{.*}} : !fa4.mbarriers<2>
        fa4.barrier_wait %empty[%i] phase %phase : !fa4.mbarriers<2>
        // CHECK: fa4.barrier_arrive_tx %[[FULL]][%{{.*}}] bytes(16384) : !fa4.mbarriers<2>
        fa4.barrier_arrive_tx %full[%i] bytes(16384) : !fa4.mbarriers<2>
        // CHECK: fa4.tma_load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] into %{{.*}}, %[[FULL]][%{{.*}}] : !fa4.smem<64x128xbf16>, !fa4.mbarriers<2>
        fa4.tma_load %desc[%row, %head, %batch] into %sk, %full[%i] : !fa4.smem<64x128xbf16>, !fa4.mbarriers<2>
      // CHECK: } consumers {
      } consumers {
        fa4.barrier_wait %full[%i] phase %phase : !fa4.mbarriers<2>
        // CHECK: fa4.barrier_arrive %[[EMPTY]][%{{.*}}] : !fa4.mbarriers<2>
        fa4.barrier_arrive %empty[%i] : !fa4.mbarriers<2>
      }
      // CHECK: fa4.warp_specialize consumer_warps(4) producer {
      fa4.warp_specialize consumer_warps(4) producer {
        fa4.barrier_wait %empty[%i] phase %phase : !fa4.mbarriers<2>
      } consumers {
        fa4.barrier_arrive %empty[%i] : !fa4.mbarriers<2>
      }
    }
    gpu.return
  }
}

// The key-loop ops: a range, a varlen sequence, and a loop whose tiles come
// from tile-source kinds; the paged load and the NaN fill.
// CHECK-LABEL: gpu.func @key_loop
gpu.module @key_loop [#nvvm.target<chip = "sm_120a">] {
  gpu.func @key_loop(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %cu: !llvm.ptr<1>, %table: !llvm.ptr<1>,
                     %stride: i32, %sq: i32, %sk: i32, %q_row: i32, %b: i32, %total: i32,
                     %page: i32, %magic: i32, %shift: i32, %pstride: i64, %pages: i32,
                     %scale: f32) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "paged" {
      // CHECK: %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} = fa4.kv_range causal rows(%{{.*}}, 128) seqlen(%{{.*}}, %{{.*}}) block(64)
      %begin, %full_begin, %full_end, %end = fa4.kv_range causal rows(%q_row, 128) seqlen(%sq, %sk) block(64)
      // CHECK: fa4.kv_range none
      %r2:4 = fa4.kv_range none rows(%q_row, 128) seqlen(%sq, %sk) block(64)
      // CHECK: fa4.kv_range local window(%{{.*}}, %{{.*}}) rows(%{{.*}}, 128) seqlen(%{{.*}}, %{{.*}}) block(64)
      %r3:4 = fa4.kv_range local window(%b, %b) rows(%q_row, 128) seqlen(%sq, %sk) block(64)
      // CHECK: fa4.varlen_seqlens %{{.*}} cu_seqlens(%{{.*}}, %{{.*}}) seqused_k(%{{.*}}) totals(%{{.*}}, %{{.*}})
      %qs, %lq, %ks, %lk = fa4.varlen_seqlens %b cu_seqlens(%cu, %cu) seqused_k(%cu) totals(%total, %total)
      // CHECK: fa4.kv_range causal rows(%{{.*}}, 128) seqlen(%{{.*}}, %{{.*}}) block(64) split(%{{.*}} of %{{.*}})
      %r4:4 = fa4.kv_range causal rows(%q_row, 128) seqlen(%sq, %sk) block(64) split(%b of %b)
      // CHECK: fa4.cache_seqlens %{{.*}} seqlens(%{{.*}}, %{{.*}}) new(%{{.*}}) batch_idx(%{{.*}}) leftpad(%{{.*}}) entries(%{{.*}}) capacity(%{{.*}})
      %e, %kst, %lkc = fa4.cache_seqlens %b seqlens(%cu, %total) new(%b) batch_idx(%cu) leftpad(%cu) entries(%b) capacity(%total)
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %kt = fa4.smem_buffer "K" : !fa4.smem<64x64xbf16>
      // CHECK: fa4.load_paged_tile %{{.*}}[%{{.*}}] limit %{{.*}} stride %{{.*}} pages(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) into %{{.*}} : !fa4.smem<64x64xbf16>
      fa4.load_paged_tile %k[%q_row] limit %sk stride %stride pages(%table, %page, %magic, %shift, %pstride, %pages) into %kt : !fa4.smem<64x64xbf16>
      %zero = arith.constant 0.0 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      %m0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
      // CHECK: fa4.kv_loop[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] stages(2) q %{{.*}}[%{{.*}}] : !fa4.smem<128x64xbf16> #fa4.contiguous(%{{.*}}, %{{.*}}, %{{.*}} : !llvm.ptr<1>, i32, i32)
      // CHECK-SAME: k #fa4.paged(
      // CHECK-SAME: v #fa4.paged(
      // CHECK: ^bb0(%n: i32, %q: !fa4.smem<128x64xbf16>, %k: !fa4.smem<64x64xbf16>, %v: !fa4.smem<64x64xbf16>, %o: !fa4.acc<128x64xf32, warps = 8>, %m: !fa4.rows<128, warps = 8>):
      // CHECK: fa4.yield
      %r:2 = fa4.kv_loop [%begin, %full_begin, %full_end, %end] stages(2)
          q %qt[%q_row] : !fa4.smem<128x64xbf16> #fa4.contiguous(%q, %stride, %sq : !llvm.ptr<1>, i32, i32)
          k #fa4.paged(%k, %stride, %sk, %table, %page, %magic, %shift, %pstride, %pages : !llvm.ptr<1>, i32, i32, !llvm.ptr<1>, i32, i32, i32, i64, i32)
          v #fa4.paged(%k, %stride, %sk, %table, %page, %magic, %shift, %pstride, %pages : !llvm.ptr<1>, i32, i32, !llvm.ptr<1>, i32, i32, i32, i64, i32)
          init(%o0, %m0) : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>,
           %o: !fa4.acc<128x64xf32, warps = 8>, %m: !fa4.rows<128, warps = 8>):
        fa4.yield %o, %m : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
      }
      // The block-list iteration kind (block-sparse).
      // CHECK: fa4.kv_loop[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] lists(%{{.*}}[%{{.*}}], %{{.*}}[%{{.*}}]) per(%{{.*}}) stages(1)
      %rl:2 = fa4.kv_loop [%begin, %full_begin, %full_end, %end] lists(%table[%b], %cu[%b]) per(%page) stages(1)
          q %qt[%q_row] : !fa4.smem<128x64xbf16> #fa4.contiguous(%q, %stride, %sq : !llvm.ptr<1>, i32, i32)
          k #fa4.contiguous(%k, %stride, %sk : !llvm.ptr<1>, i32, i32)
          v #fa4.contiguous(%k, %stride, %sk : !llvm.ptr<1>, i32, i32)
          init(%o0, %m0) : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.smem<128x64xbf16>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>,
           %o: !fa4.acc<128x64xf32, warps = 8>, %m: !fa4.rows<128, warps = 8>):
        fa4.yield %o, %m : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
      }
      // CHECK: fa4.fill_nan %{{.*}}[%{{.*}} to %{{.*}}] stride %{{.*}} cols(64) as bf16
      fa4.fill_nan %q[%q_row to %sq] stride %stride cols(64) as bf16
      // CHECK: fa4.merge_splits %{{.*}}, %{{.*}} splits(%{{.*}}) strides(%{{.*}}, %{{.*}}) : vector<4xf32>
      %mo, %ml = fa4.merge_splits %q, %k splits(%b) strides(%pstride, %pstride) : vector<4xf32>
    }
    gpu.return
  }
}

// CHECK-LABEL: gpu.func @tma_sources
gpu.module @tma_sources {
  gpu.func @tma_sources(%d: !llvm.ptr, %h: i32, %b: i32, %range: i32) kernel {
    fa4.scope "dense" {
      %qt = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      // CHECK: #fa4.tma(%{{.*}}, %{{.*}}, %{{.*}} : !llvm.ptr, i32, i32) k #fa4.tma
      %r = fa4.kv_loop [%range, %range, %range, %range] stages(2)
          q %qt[%h] : !fa4.smem<128x64xbf16> #fa4.tma(%d, %h, %b : !llvm.ptr, i32, i32)
          k #fa4.tma(%d, %h, %b : !llvm.ptr, i32, i32)
          v #fa4.tma(%d, %h, %b : !llvm.ptr, i32, i32)
          init(%o0) : !fa4.acc<128x64xf32, warps = 8> {
      ^bb0(%n: i32, %qa: !fa4.afrag<128x64xbf16, warps = 8>, %kb: !fa4.smem<64x64xbf16>, %vb: !fa4.smem<64x64xbf16>,
           %o: !fa4.acc<128x64xf32, warps = 8>):
        fa4.yield %o : !fa4.acc<128x64xf32, warps = 8>
      }
    }
    gpu.return
  }
}

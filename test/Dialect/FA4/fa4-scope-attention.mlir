// RUN: fa4-opt %s --split-input-file --pass-pipeline='builtin.module(gpu.module(fa4-scope-attention))' | FileCheck %s

// Seed bug class 1 (CONFLICTS_LOG, "DSL SSA collision on shared locals
// row_scale / sO"): a block-sparse path and the dense path each define a
// `row_scale` and an O staging buffer `O_stage`, and both are compiled into
// one kernel. In fa4 each path is a scope that owns its buffers: planning
// gives the two `O_stage` buffers disjoint byte ranges, and each path's
// row_scale is its own SSA value.
// CHECK-LABEL: gpu.func @two_paths_own_their_buffers
// CHECK-SAME: fa4.smem_bytes = 65536
// CHECK: fa4.scope "block_sparse"
// CHECK:   %[[BS:.*]] = fa4.smem_buffer "O_stage" at 0 : !fa4.smem<128x128xbf16>
// CHECK:   %[[BS_SCALE:.*]] = fa4.splat
// CHECK:   fa4.rescale %{{.*}} by %[[BS_SCALE]]
// CHECK: fa4.scope "dense"
// CHECK:   %[[D:.*]] = fa4.smem_buffer "O_stage" at 32768 : !fa4.smem<128x128xbf16>
// CHECK:   %[[D_SCALE:.*]] = fa4.splat
// CHECK:   fa4.rescale %{{.*}} by %[[D_SCALE]]
gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  gpu.func @two_paths_own_their_buffers(%x: f32, %y: f32) kernel
      attributes {fa4.features = {}} {
    %o = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    fa4.scope "block_sparse" {
      %stage = fa4.smem_buffer "O_stage" : !fa4.smem<128x128xbf16>
      %row_scale = fa4.splat %x : !fa4.rows<128, warps = 8>
      %r = fa4.rescale %o by %row_scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
    }
    fa4.scope "dense" {
      %stage = fa4.smem_buffer "O_stage" : !fa4.smem<128x128xbf16>
      %row_scale = fa4.splat %y : !fa4.rows<128, warps = 8>
      %r = fa4.rescale %o by %row_scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
    }
    gpu.return
  }
}

// -----

// Seed bug class 2: a compile-time choice (block-sparse or not) nested with
// a run-time guard (n_block_max > n_block_min). The static choice is
// resolved first, by the kernel's features; only the chosen path remains,
// and only then does the guard become an scf.if.
// CHECK-LABEL: gpu.func @static_choice_before_dynamic_guard
// CHECK-NOT: fa4.variant
// CHECK-NOT: "block_sparse"
// CHECK: fa4.scope "dense"
// CHECK: %[[IF:.*]]:2 = scf.if %{{.*}} -> (!fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>)
// CHECK:   fa4.rescale
// CHECK:   scf.yield
// CHECK: } else {
// CHECK:   scf.yield
// CHECK-NOT: fa4.guard
gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  gpu.func @static_choice_before_dynamic_guard(%x: f32, %nonempty: i1) kernel
      attributes {fa4.features = {block_sparse = false}} {
    fa4.variant "block_sparse" {
      fa4.scope "block_sparse" {
        %row_scale = fa4.splat %x : !fa4.rows<128, warps = 8>
      }
    } else {
      fa4.scope "dense" {
        %o0 = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
        %row_scale = fa4.splat %x : !fa4.rows<128, warps = 8>
        %r:2 = fa4.guard %nonempty else(%o0, %row_scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>) {
          %o1 = fa4.rescale %o0 by %row_scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
          fa4.yield %o1, %row_scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
        }
      }
    }
    gpu.return
  }
}

// -----

// The same kernel with the feature on keeps the other path.
// CHECK-LABEL: gpu.func @variant_on
// CHECK: fa4.scope "block_sparse"
// CHECK-NOT: fa4.scope "dense"
gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  gpu.func @variant_on(%x: f32) kernel
      attributes {fa4.features = {block_sparse = true}} {
    fa4.variant "block_sparse" {
      fa4.scope "block_sparse" {
        %row_scale = fa4.splat %x : !fa4.rows<128, warps = 8>
      }
    } else {
      fa4.scope "dense" {
        %row_scale = fa4.splat %x : !fa4.rows<128, warps = 8>
      }
    }
    gpu.return
  }
}

// -----

// The split-KV empty-range guard (seed: "the split-KV empty-range guard
// wraps the main loop; what the guard skips has defined results"): when
// n_block_max <= n_block_min the scf.if yields exactly the guard's declared
// values, O = 0, max = -inf, sum = 0, and the finalize after it reads them.
// CHECK-LABEL: gpu.func @empty_range_guard
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[O0:.*]] = fa4.splat %[[ZERO]] : !fa4.acc<128x64xf32, warps = 8>
// CHECK: %[[M0:.*]] = fa4.splat %[[NINF]] : !fa4.rows<128, warps = 8>
// CHECK: %[[L0:.*]] = fa4.splat %[[ZERO]] : !fa4.rows<128, warps = 8>
// CHECK: %[[NONEMPTY:.*]] = arith.cmpi sgt, %[[MAX:.*]], %[[MIN:.*]] : i32
// CHECK: %[[R:.*]]:3 = scf.if %[[NONEMPTY]]
// CHECK:   scf.for
// CHECK:   scf.yield
// CHECK: } else {
// CHECK:   scf.yield %[[O0]], %[[M0]], %[[L0]]
// CHECK: fa4.finalize %[[R]]#0, %[[R]]#1, %[[R]]#2
gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  gpu.func @empty_range_guard(%n_min: i32, %n_max: i32, %scale: f32, %sq: !fa4.smem<128x64xbf16>,
                              %sk: !fa4.smem<64x64xbf16>) kernel
      attributes {fa4.features = {}} {
    fa4.scope "dense" {
      %zero = arith.constant 0.0 : f32
      %ninf = arith.constant 0xFF800000 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      %m0 = fa4.splat %ninf : !fa4.rows<128, warps = 8>
      %l0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
      %nonempty = arith.cmpi sgt, %n_max, %n_min : i32
      %r:3 = fa4.guard %nonempty else(%o0, %m0, %l0 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) {
        %c1 = arith.constant 1 : i32
        %s:3 = scf.for %n = %n_min to %n_max step %c1 iter_args(%o = %o0, %m = %m0, %l = %l0) -> (!fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) : i32 {
          %st = fa4.qk_mma %sq, %sk : !fa4.smem<128x64xbf16>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
          %p, %m1, %l1, %c = fa4.online_softmax %st, %m, %l scale %scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
          %o1 = fa4.rescale %o by %c : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
          scf.yield %o1, %m1, %l1 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
        }
        fa4.yield %s#0, %s#1, %s#2 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
      }
      %out, %lse = fa4.finalize %r#0, %r#1, %r#2 scale %scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
    }
    gpu.return
  }
}

// -----

// mbarriers go after every tile, in declaration order, 8 bytes each: the
// tiles keep their 1024-byte swizzle alignment and the barriers count
// toward the kernel's shared memory.
// CHECK-LABEL: gpu.func @barriers_after_tiles
// CHECK-SAME: fa4.smem_bytes = 49192
// CHECK: fa4.smem_barriers "full" at 49152 : !fa4.mbarriers<2>
// CHECK: fa4.smem_buffer "Q" at 0 : !fa4.smem<128x128xbf16>
// CHECK: fa4.smem_barriers "empty" at 49168 : !fa4.mbarriers<2>
// CHECK: fa4.smem_buffer "K0" at 32768 : !fa4.smem<64x128xbf16>
// CHECK: fa4.smem_barriers "q_full" at 49184 : !fa4.mbarriers<1>
gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  gpu.func @barriers_after_tiles() kernel attributes {fa4.features = {}} {
    fa4.scope "dense" {
      %full = fa4.smem_barriers "full" : !fa4.mbarriers<2>
      %q = fa4.smem_buffer "Q" : !fa4.smem<128x128xbf16>
      %empty = fa4.smem_barriers "empty" : !fa4.mbarriers<2>
      %k = fa4.smem_buffer "K0" : !fa4.smem<64x128xbf16>
      %qf = fa4.smem_barriers "q_full" : !fa4.mbarriers<1>
    }
    gpu.return
  }
}

// -----

// Both seed bug classes on the shape the seed had them: the block-sparse
// and the dense path compiled into one kernel, each under the split-KV
// empty-range guard, each defining an O staging buffer, a row scale and a
// running max / sum. After scoping, each path's buffer has its own byte
// range, each guard is an scf.if that yields every value used after it
// (O, max, sum), and each path's finalize reads its own scf.if's results:
// no value or buffer of one path reaches the other.
// CHECK-LABEL: gpu.func @two_guarded_paths
// CHECK-SAME: fa4.smem_bytes = 32768
// CHECK: fa4.scope "block_sparse"
// CHECK:   %[[BS_STAGE:.*]] = fa4.smem_buffer "O_stage" at 0 : !fa4.smem<128x64xbf16>
// CHECK:   %[[BS_IF:.*]]:3 = scf.if %{{.*}} -> (!fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) {
// CHECK:     %[[BS_SCALE:.*]] = fa4.splat %[[SCALE:[^ ]*]] : !fa4.rows<128, warps = 8>
// CHECK:     %[[BS_O:.*]] = fa4.rescale %{{.*}} by %[[BS_SCALE]]
// CHECK:     scf.yield %[[BS_O]], %[[BS_SCALE]], %{{.*}}
// CHECK:   } else {
// CHECK:     scf.yield
// CHECK:   }
// CHECK:   fa4.finalize %[[BS_IF]]#0, %[[BS_IF]]#1, %[[BS_IF]]#2
// CHECK: fa4.scope "dense"
// CHECK:   %[[D_STAGE:.*]] = fa4.smem_buffer "O_stage" at 16384 : !fa4.smem<128x64xbf16>
// CHECK:   %[[D_IF:.*]]:3 = scf.if %{{.*}} -> (!fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) {
// CHECK-NOT: %[[BS_SCALE]]
// CHECK:     %[[D_SCALE:.*]] = fa4.splat %{{.*}} : !fa4.rows<128, warps = 8>
// CHECK:     %[[D_O:.*]] = fa4.rescale %{{.*}} by %[[D_SCALE]]
// CHECK:     scf.yield %[[D_O]], %[[D_SCALE]], %{{.*}}
// CHECK:   } else {
// CHECK:     scf.yield
// CHECK:   }
// CHECK-NOT: %[[BS_IF]]
// CHECK:   fa4.finalize %[[D_IF]]#0, %[[D_IF]]#1, %[[D_IF]]#2
// CHECK-NOT: fa4.guard
gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  gpu.func @two_guarded_paths(%n_min: i32, %n_max: i32, %scale: f32, %scale2: f32,
                              %p: !llvm.ptr<1>, %sq: i32, %stride: i32) kernel
      attributes {fa4.features = {}} {
    fa4.scope "block_sparse" {
      %stage = fa4.smem_buffer "O_stage" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %ninf = arith.constant 0xFF800000 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      %m0 = fa4.splat %ninf : !fa4.rows<128, warps = 8>
      %l0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
      %nonempty = arith.cmpi sgt, %n_max, %n_min : i32
      %r:3 = fa4.guard %nonempty else(%o0, %m0, %l0 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) {
        %row_scale = fa4.splat %scale : !fa4.rows<128, warps = 8>
        %o1 = fa4.rescale %o0 by %row_scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
        fa4.yield %o1, %row_scale, %l0 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
      }
      %out, %lse = fa4.finalize %r#0, %r#1, %r#2 scale %scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
      fa4.store_tile %out, %p[%n_min] limit %sq stride %stride : !fa4.acc<128x64xf32, warps = 8> as bf16
    }
    fa4.scope "dense" {
      %stage = fa4.smem_buffer "O_stage" : !fa4.smem<128x64xbf16>
      %zero = arith.constant 0.0 : f32
      %ninf = arith.constant 0xFF800000 : f32
      %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
      %m0 = fa4.splat %ninf : !fa4.rows<128, warps = 8>
      %l0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
      %nonempty = arith.cmpi sgt, %n_max, %n_min : i32
      %r:3 = fa4.guard %nonempty else(%o0, %m0, %l0 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) {
        %row_scale = fa4.splat %scale2 : !fa4.rows<128, warps = 8>
        %o1 = fa4.rescale %o0 by %row_scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
        fa4.yield %o1, %row_scale, %l0 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
      }
      %out, %lse = fa4.finalize %r#0, %r#1, %r#2 scale %scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
      fa4.store_tile %out, %p[%n_min] limit %sq stride %stride : !fa4.acc<128x64xf32, warps = 8> as bf16
    }
    gpu.return
  }
}

// -----

// The static choice between the two guarded paths, both ways: the variant
// is resolved by the kernel's feature before its guards become scf.if, so
// the path not taken, its guard included, is gone.
// CHECK-LABEL: gpu.func @choose_block_sparse
// CHECK-NOT: fa4.variant
// CHECK: fa4.scope "block_sparse"
// CHECK: scf.if
// CHECK-NOT: fa4.scope "dense"
// CHECK: gpu.return
// CHECK-LABEL: gpu.func @choose_dense
// CHECK-NOT: fa4.variant
// CHECK-NOT: fa4.scope "block_sparse"
// CHECK: fa4.scope "dense"
// CHECK: scf.if
// CHECK: gpu.return
gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  gpu.func @choose_block_sparse(%n_min: i32, %n_max: i32, %scale: f32, %scale2: f32,
                              %p: !llvm.ptr<1>, %sq: i32, %stride: i32) kernel
      attributes {fa4.features = {block_sparse = true}} {
    fa4.variant "block_sparse" {
      fa4.scope "block_sparse" {
        %stage = fa4.smem_buffer "O_stage" : !fa4.smem<128x64xbf16>
        %zero = arith.constant 0.0 : f32
        %ninf = arith.constant 0xFF800000 : f32
        %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
        %m0 = fa4.splat %ninf : !fa4.rows<128, warps = 8>
        %l0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
        %nonempty = arith.cmpi sgt, %n_max, %n_min : i32
        %r:3 = fa4.guard %nonempty else(%o0, %m0, %l0 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) {
          %row_scale = fa4.splat %scale : !fa4.rows<128, warps = 8>
          %o1 = fa4.rescale %o0 by %row_scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
          fa4.yield %o1, %row_scale, %l0 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
        }
        %out, %lse = fa4.finalize %r#0, %r#1, %r#2 scale %scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
        fa4.store_tile %out, %p[%n_min] limit %sq stride %stride : !fa4.acc<128x64xf32, warps = 8> as bf16
      }
    } else {
      fa4.scope "dense" {
        %stage = fa4.smem_buffer "O_stage" : !fa4.smem<128x64xbf16>
        %zero = arith.constant 0.0 : f32
        %ninf = arith.constant 0xFF800000 : f32
        %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
        %m0 = fa4.splat %ninf : !fa4.rows<128, warps = 8>
        %l0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
        %nonempty = arith.cmpi sgt, %n_max, %n_min : i32
        %r:3 = fa4.guard %nonempty else(%o0, %m0, %l0 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) {
          %row_scale = fa4.splat %scale2 : !fa4.rows<128, warps = 8>
          %o1 = fa4.rescale %o0 by %row_scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
          fa4.yield %o1, %row_scale, %l0 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
        }
        %out, %lse = fa4.finalize %r#0, %r#1, %r#2 scale %scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
        fa4.store_tile %out, %p[%n_min] limit %sq stride %stride : !fa4.acc<128x64xf32, warps = 8> as bf16
      }
    }
    gpu.return
  }
  gpu.func @choose_dense(%n_min: i32, %n_max: i32, %scale: f32, %scale2: f32,
                              %p: !llvm.ptr<1>, %sq: i32, %stride: i32) kernel
      attributes {fa4.features = {block_sparse = false}} {
    fa4.variant "block_sparse" {
      fa4.scope "block_sparse" {
        %stage = fa4.smem_buffer "O_stage" : !fa4.smem<128x64xbf16>
        %zero = arith.constant 0.0 : f32
        %ninf = arith.constant 0xFF800000 : f32
        %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
        %m0 = fa4.splat %ninf : !fa4.rows<128, warps = 8>
        %l0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
        %nonempty = arith.cmpi sgt, %n_max, %n_min : i32
        %r:3 = fa4.guard %nonempty else(%o0, %m0, %l0 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) {
          %row_scale = fa4.splat %scale : !fa4.rows<128, warps = 8>
          %o1 = fa4.rescale %o0 by %row_scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
          fa4.yield %o1, %row_scale, %l0 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
        }
        %out, %lse = fa4.finalize %r#0, %r#1, %r#2 scale %scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
        fa4.store_tile %out, %p[%n_min] limit %sq stride %stride : !fa4.acc<128x64xf32, warps = 8> as bf16
      }
    } else {
      fa4.scope "dense" {
        %stage = fa4.smem_buffer "O_stage" : !fa4.smem<128x64xbf16>
        %zero = arith.constant 0.0 : f32
        %ninf = arith.constant 0xFF800000 : f32
        %o0 = fa4.splat %zero : !fa4.acc<128x64xf32, warps = 8>
        %m0 = fa4.splat %ninf : !fa4.rows<128, warps = 8>
        %l0 = fa4.splat %zero : !fa4.rows<128, warps = 8>
        %nonempty = arith.cmpi sgt, %n_max, %n_min : i32
        %r:3 = fa4.guard %nonempty else(%o0, %m0, %l0 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) {
          %row_scale = fa4.splat %scale2 : !fa4.rows<128, warps = 8>
          %o1 = fa4.rescale %o0 by %row_scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
          fa4.yield %o1, %row_scale, %l0 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
        }
        %out, %lse = fa4.finalize %r#0, %r#1, %r#2 scale %scale : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
        fa4.store_tile %out, %p[%n_min] limit %sq stride %stride : !fa4.acc<128x64xf32, warps = 8> as bf16
      }
    }
    gpu.return
  }
}

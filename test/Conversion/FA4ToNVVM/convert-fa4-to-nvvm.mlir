// RUN: fa4-opt %s --split-input-file --allow-unregistered-dialect --pass-pipeline='builtin.module(gpu.module(convert-fa4-to-nvvm, canonicalize, cse))' | FileCheck %s

// One dynamic shared array per module; launch bounds become .reqntid.
// CHECK-LABEL: gpu.module @smem
// CHECK: llvm.mlir.global external @fa4_smem() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<0 x i8>
// CHECK: gpu.func @smem_buffer
// CHECK-SAME: nvvm.reqntid = array<i32: 256, 1, 1>
// CHECK-NOT: known_block_size
// CHECK: %[[BASE:.*]] = llvm.mlir.addressof @fa4_smem : !llvm.ptr<3>
// CHECK: llvm.getelementptr %[[BASE]][32768] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK: nvvm.cp.async.commit.group
// CHECK-NOT: fa4.scope
gpu.module @smem {
  gpu.func @smem_buffer(%p: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "dense" {
      %k = fa4.smem_buffer "K" at 32768 : !fa4.smem<64x128xbf16>
      %z = arith.constant 0 : i32
      fa4.load_tile %p[%z] limit %z stride %z into %k : !fa4.smem<64x128xbf16>
      fa4.commit_loads
    }
    gpu.return
  }
}

// -----

// 16-byte cp.async.cg per unit; rows past the limit get source size 0.
// 64 rows x 2 chunks of 128 B over 256 threads: 4 copies per thread.
// CHECK-LABEL: gpu.func @load_tile
// CHECK: nvvm.read.ptx.sreg.tid.x range <i32, 0, 256> : i32
// CHECK: arith.xori
// CHECK-COUNT-4: nvvm.cp.async.shared.global %{{.*}}, %{{.*}}, 16, cache =  cg, %{{.*}} : !llvm.ptr<3>, !llvm.ptr<1>, i32
// CHECK-NOT: nvvm.cp.async.shared.global
gpu.module @m {
  gpu.func @load_tile(%g: !llvm.ptr<1>, %row: i32, %limit: i32, %stride: i32) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "dense" {
      %k = fa4.smem_buffer "K" at 0 : !fa4.smem<64x128xbf16>
      fa4.load_tile %g[%row] limit %limit stride %stride into %k : !fa4.smem<64x128xbf16>
    }
    gpu.return
  }
}

// -----

// CHECK-LABEL: gpu.func @wait_loads
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: nvvm.barrier0
gpu.module @m {
  gpu.func @wait_loads() kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.wait_loads {pending = 1 : i32}
    gpu.return
  }
}

// -----

// Q fragments: one ldmatrix.x4 per 16x16 block of the warp's 16 rows.
// CHECK-LABEL: gpu.func @load_a
// CHECK-COUNT-4: nvvm.ldmatrix %{{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, num = 4 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>} : (!llvm.ptr<3>) -> !llvm.struct<(i32, i32, i32, i32)>
// Q K^T with Q in registers: per k-slice only the 4 K ldmatrix.
// CHECK-COUNT-4: nvvm.ldmatrix
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-COUNT-4: nvvm.ldmatrix
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-COUNT-4: nvvm.ldmatrix
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-COUNT-4: nvvm.ldmatrix
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-NOT: nvvm.ldmatrix
// CHECK: gpu.return
gpu.module @m {
  gpu.func @load_a(%out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "dense" {
      %sq = fa4.smem_buffer "Q" at 0 : !fa4.smem<128x64xbf16>
      %qa = fa4.load_a %sq : !fa4.smem<128x64xbf16> -> !fa4.afrag<128x64xbf16, warps = 8>
      %sk = fa4.smem_buffer "K" at 16384 : !fa4.smem<64x64xbf16>
      %s = fa4.qk_mma %qa, %sk : !fa4.afrag<128x64xbf16, warps = 8>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
      %z = arith.constant 0 : i32
      fa4.store_tile %s, %out[%z] limit %z stride %z : !fa4.acc<128x64xf32, warps = 8> as bf16
    }
    gpu.return
  }
}

// -----

// S = Q K^T, bf16: per k-slice one Q ldmatrix and one K ldmatrix.x4 per pair
// of n8 tiles; 4 k-slices x 8 n-tiles = 32 mma with bf16 operands as i32.
// CHECK-LABEL: gpu.func @qk_mma_bf16
// k-slice 0: Q's A fragment, K's B fragments for 8 n-tiles, 8 mma.
// CHECK-COUNT-5: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>
// CHECK: nvvm.mma.sync A[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] B[%{{.*}}, %{{.*}}] C[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-COUNT-7: nvvm.mma.sync
// k-slices 1 to 3.
// CHECK-COUNT-5: nvvm.ldmatrix
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-COUNT-5: nvvm.ldmatrix
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-COUNT-5: nvvm.ldmatrix
// CHECK-COUNT-8: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK-NOT: nvvm.ldmatrix
// CHECK: gpu.return
gpu.module @m {
  gpu.func @qk_mma_bf16(%out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "dense" {
      %sq = fa4.smem_buffer "Q" at 0 : !fa4.smem<128x64xbf16>
      %sk = fa4.smem_buffer "K" at 16384 : !fa4.smem<64x64xbf16>
      %s = fa4.qk_mma %sq, %sk : !fa4.smem<128x64xbf16>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
      %z = arith.constant 0 : i32
      fa4.store_tile %s, %out[%z] limit %z stride %z : !fa4.acc<128x64xf32, warps = 8> as bf16
    }
    gpu.return
  }
}

// -----

// Two m16 row groups per warp (128 rows on four warps): per k-slice two Q
// fragments and four K loads, each K fragment feeding both row groups'
// mma.sync. The addresses take the XOR-offset form: k-slice 1 is the
// lane's byte offset XOR 32 (two 16-byte units), from the tile's base.
// CHECK-LABEL: gpu.func @qk_mma_two_row_groups
// CHECK: llvm.getelementptr %{{.*}}[%[[QOFF:[0-9]+]]] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i8
// CHECK-COUNT-6: nvvm.ldmatrix
// CHECK: nvvm.mma.sync A[%[[A0:[0-9]+]], %{{.*}}, %{{.*}}, %{{.*}}] B[%[[B0:[0-9]+]], %[[B1:[0-9]+]]]
// CHECK-COUNT-7: nvvm.mma.sync A[%[[A0]],
// CHECK: nvvm.mma.sync A[%[[A1:[0-9]+]], %{{.*}}, %{{.*}}, %{{.*}}] B[%[[B0]], %[[B1]]]
// CHECK-COUNT-7: nvvm.mma.sync A[%[[A1]],
// CHECK: %[[X:.*]] = arith.xori %[[QOFF]], %c32_i32 : i32
// CHECK-NEXT: llvm.getelementptr %{{.*}}[%[[X]]] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i8
// CHECK-NEXT: nvvm.ldmatrix
gpu.module @m {
  gpu.func @qk_mma_two_row_groups(%out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
    fa4.scope "dense" {
      %sq = fa4.smem_buffer "Q" at 0 : !fa4.smem<128x64xbf16>
      %sk = fa4.smem_buffer "K" at 16384 : !fa4.smem<64x64xbf16>
      %s = fa4.qk_mma %sq, %sk : !fa4.smem<128x64xbf16>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 4>
      %z = arith.constant 0 : i32
      fa4.store_tile %s, %out[%z] limit %z stride %z : !fa4.acc<128x64xf32, warps = 4> as bf16
    }
    gpu.return
  }
}

// -----

// f16 operands travel as vector<2xf16>.
// CHECK-LABEL: gpu.func @qk_mma_f16
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
gpu.module @m {
  gpu.func @qk_mma_f16(%out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "dense" {
      %sq = fa4.smem_buffer "Q" at 0 : !fa4.smem<128x64xf16>
      %sk = fa4.smem_buffer "K" at 16384 : !fa4.smem<64x64xf16>
      %s = fa4.qk_mma %sq, %sk : !fa4.smem<128x64xf16>, !fa4.smem<64x64xf16> -> !fa4.acc<128x64xf32, warps = 8>
      %z = arith.constant 0 : i32
      fa4.store_tile %s, %out[%z] limit %z stride %z : !fa4.acc<128x64xf32, warps = 8> as f16
    }
    gpu.return
  }
}

// -----

// Causal mask: one compare with a constant column and one select per value.
// CHECK-LABEL: gpu.func @mask_causal
// CHECK: arith.minsi
// CHECK-COUNT-32: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
gpu.module @m {
  gpu.func @mask_causal(%x: f32, %row: i32, %col: i32, %lim: i32, %off: i32, %out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    %s = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    %m = fa4.mask %s row %row col %col limit %lim diag_max %off : !fa4.acc<128x64xf32, warps = 8>
    fa4.store_tile %m, %out[%row] limit %lim stride %lim : !fa4.acc<128x64xf32, warps = 8> as bf16
    gpu.return
  }
}

// -----

// A window's mask: the right diagonal bounds the columns from above like
// causal, the left one from below: two compares with a constant column,
// an and, and one select per value.
// CHECK-LABEL: gpu.func @mask_window
// CHECK: arith.minsi
// CHECK: %[[KEEP:.*]] = arith.andi %{{.*}}, %{{.*}} : i1
// CHECK-NEXT: arith.select %[[KEEP]], %{{.*}}, %{{.*}} : f32
// CHECK-COUNT-31: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK-NOT: arith.select
gpu.module @m {
  gpu.func @mask_window(%x: f32, %row: i32, %col: i32, %lim: i32, %hi: i32, %lo: i32, %out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    %s = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    %m = fa4.mask %s row %row col %col limit %lim diag_max %hi diag_min %lo : !fa4.acc<128x64xf32, warps = 8>
    fa4.store_tile %m, %out[%row] limit %lim stride %lim : !fa4.acc<128x64xf32, warps = 8> as bf16
    gpu.return
  }
}

// -----

// Softcap: tanh(pre * x) per value, llvm.tanh with afn (tanh.approx.f32;
// the splat's 32 equal values fold to one here, the PTX test counts them).
// CHECK-LABEL: gpu.func @softcap
// CHECK: %[[X:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: llvm.intr.tanh(%[[X]]) {fastmathFlags = #llvm.fastmath<afn>} : (f32) -> f32
gpu.module @m {
  gpu.func @softcap(%x: f32, %pre: f32, %row: i32, %lim: i32, %out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    %s = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    %c = fa4.softcap %s scale %pre : !fa4.acc<128x64xf32, warps = 8>
    fa4.store_tile %c, %out[%row] limit %lim stride %lim : !fa4.acc<128x64xf32, warps = 8> as bf16
    gpu.return
  }
}

// -----

// Switchable softcap: the capped value where %on holds, the score where not
// (a select per value on the uniform switch).
// CHECK-LABEL: gpu.func @softcap_switch
// CHECK: %[[X:.*]] = arith.mulf %[[V:.*]], %{{.*}} : f32
// CHECK-NEXT: %[[T:.*]] = llvm.intr.tanh(%[[X]]) {fastmathFlags = #llvm.fastmath<afn>} : (f32) -> f32
// CHECK-NEXT: llvm.select %{{.*}}, %[[T]], %[[V]] : i1, f32
gpu.module @m {
  gpu.func @softcap_switch(%x: f32, %pre: f32, %on: i1, %row: i32, %lim: i32, %out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    %s = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    %c = fa4.softcap %s scale %pre if %on : !fa4.acc<128x64xf32, warps = 8>
    fa4.store_tile %c, %out[%row] limit %lim stride %lim : !fa4.acc<128x64xf32, warps = 8> as bf16
    gpu.return
  }
}

// -----

// ALiBi: per row slot one conversion of the distance base to f32 (two row
// slots of 16-row warps), per value a subtraction of the column, the
// absolute value (the sign bit cleared) and an FMA with the slope.
// CHECK-LABEL: gpu.func @alibi
// CHECK-COUNT-2: arith.sitofp %{{.*}} : i32 to f32
// CHECK-NOT: arith.sitofp
// CHECK: %[[D:.*]] = arith.subf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: %[[BITS:.*]] = arith.bitcast %[[D]] : f32 to i32
// CHECK-NEXT: %[[MAG:.*]] = arith.andi %[[BITS]], %c2147483647_i32 : i32
// CHECK-NEXT: %[[ABS:.*]] = arith.bitcast %[[MAG]] : i32 to f32
// CHECK-NEXT: llvm.intr.fma(%{{.*}}, %[[ABS]], %{{.*}}) : (f32, f32, f32) -> f32
gpu.module @m {
  gpu.func @alibi(%x: f32, %slope: f32, %row: i32, %col: i32, %diag: i32, %lim: i32, %out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    %s = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    %a = fa4.alibi %s row %row col %col diag %diag slope %slope : !fa4.acc<128x64xf32, warps = 8>
    fa4.store_tile %a, %out[%row] limit %lim stride %lim : !fa4.acc<128x64xf32, warps = 8> as bf16
    gpu.return
  }
}

// -----

// A tile shorter than one pass (32 rows of 224 columns: 7 chunks of 4 units,
// 64 rows per pass over 256 threads): the threads whose row is in the tile
// copy, one unit per chunk; the others copy nothing.
// CHECK-LABEL: gpu.func @load_short_tile
// CHECK: %[[ROW:.*]] = arith.divui %{{.*}}, %c4_i32
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[ROW]], %c32_i32
// CHECK: scf.if %[[IN]] {
// CHECK-COUNT-7: nvvm.cp.async.shared.global
// CHECK-NOT: nvvm.cp.async.shared.global
// CHECK: }
gpu.module @m {
  gpu.func @load_short_tile(%g: !llvm.ptr<1>, %row: i32, %limit: i32, %stride: i32) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "dense" {
      %k = fa4.smem_buffer "K" at 0 : !fa4.smem<32x224xbf16>
      fa4.load_tile %g[%row] limit %limit stride %stride into %k : !fa4.smem<32x224xbf16>
    }
    gpu.return
  }
}

// -----

// A learnable sink joins the denominator: mx = max(m * s, sink), the kept
// part 2^(m * s - mx), l' = l * kept + 2^(sink - mx); no l == 0 select (l' > 0).
// CHECK-LABEL: gpu.func @finalize_sink
// CHECK: %[[M2:.*]] = arith.mulf %{{.*}}, %[[S:.*]] : f32
// CHECK: %[[MX:.*]] = llvm.intr.maxnum(%[[M2]], %[[SINK:.*]]) : (f32, f32) -> f32
// CHECK: %[[D:.*]] = arith.subf %[[M2]], %[[MX]]
// CHECK: %[[KEEP:.*]] = llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f32"(%[[D]])
// CHECK: %[[DS:.*]] = arith.subf %[[SINK]], %[[MX]]
// CHECK: %[[ES:.*]] = llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f32"(%[[DS]])
// CHECK: %[[TOTAL:.*]] = llvm.intr.fma(%{{.*}}, %[[KEEP]], %[[ES]])
// CHECK: arith.divf %{{.*}}, %[[TOTAL]]
// CHECK-NOT: arith.cmpf oeq
// CHECK: llvm.call_intrinsic "llvm.nvvm.lg2.approx.f"(%[[TOTAL]])
gpu.module @m {
  gpu.func @finalize_sink(%x: f32, %sink: f32, %out: !llvm.ptr<1>, %i: i32) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    %o = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    %m = fa4.splat %x : !fa4.rows<128, warps = 8>
    %o2, %lse = fa4.finalize %o, %m, %m scale %x sink %sink : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
    fa4.store_tile %o2, %out[%i] limit %i stride %i : !fa4.acc<128x64xf32, warps = 8> as bf16
    fa4.store_rows %lse, %out[%i] limit %i : !fa4.rows<128, warps = 8>
    gpu.return
  }
}

// -----

// Dropout's out_scale multiplies each row's 1 / l (after the l == 0 select,
// so an empty row stays 0), once per row slot; the LSE does not see it.
// CHECK-LABEL: gpu.func @finalize_out_scale
// CHECK: %[[INV:.*]] = arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: %[[LSE2:.*]] = llvm.intr.fma
// CHECK-COUNT-2: arith.mulf %{{.*}}, %arg1 : f32
// CHECK-NOT: arith.mulf %{{.*}}, %arg1 : f32
// CHECK: gpu.return
gpu.module @m {
  gpu.func @finalize_out_scale(%x: f32, %rp: f32, %out: !llvm.ptr<1>, %i: i32) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
    %o = fa4.splat %x : !fa4.acc<64x32xf32, warps = 4>
    %m = fa4.splat %x : !fa4.rows<64, warps = 4>
    %o2, %lse = fa4.finalize %o, %m, %m scale %x out_scale %rp : !fa4.acc<64x32xf32, warps = 4>, !fa4.rows<64, warps = 4>
    fa4.store_tile %o2, %out[%i] limit %i stride %i : !fa4.acc<64x32xf32, warps = 4> as bf16
    fa4.store_rows %lse, %out[%i] limit %i : !fa4.rows<64, warps = 4>
    gpu.return
  }
}

// -----

// Online softmax: quad max and (in finalize) quad sum by shfl.sync.bfly 1
// and 2; exp2 is ex2.approx.ftz; a row that saw no key uses base 0.
// CHECK-LABEL: gpu.func @online_softmax
// CHECK: nvvm.shfl.sync  bfly %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : f32 -> f32
// CHECK: llvm.intr.maxnum
// CHECK: arith.cmpf oeq
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f32"
// CHECK: llvm.intr.fma
gpu.module @m {
  gpu.func @online_softmax(%x: f32, %s2: f32, %p: !llvm.ptr<1>, %i: i32) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    %s = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    %m = fa4.splat %x : !fa4.rows<128, warps = 8>
    %l = fa4.splat %x : !fa4.rows<128, warps = 8>
    %pr, %m1, %l1, %c = fa4.online_softmax %s, %m, %l scale %s2 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
    %o, %lse = fa4.finalize %pr, %m1, %l1 scale %s2 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
    fa4.store_tile %o, %p[%i] limit %i stride %i : !fa4.acc<128x64xf32, warps = 8> as bf16
    fa4.store_rows %lse, %p[%i] limit %i : !fa4.rows<128, warps = 8>
    gpu.return
  }
}

// -----

// P goes to the P V product in registers: truncf pairs to bf16, bitcast to
// i32; V through ldmatrix.trans.
// CHECK-LABEL: gpu.func @pack_and_pv
// CHECK: arith.truncf %{{.*}} : vector<2xf32> to vector<2xbf16>
// CHECK: vector.bitcast %{{.*}} : vector<2xbf16> to vector<1xi32>
// CHECK: nvvm.ldmatrix %{{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<col>, num = 4 : i32
// CHECK: nvvm.mma.sync
gpu.module @m {
  gpu.func @pack_and_pv(%x: f32, %out: !llvm.ptr<1>, %i: i32) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "dense" {
      %sv = fa4.smem_buffer "V" at 0 : !fa4.smem<64x64xbf16>
      %p = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
      %o = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
      %pa = fa4.pack_a %p : !fa4.acc<128x64xf32, warps = 8> -> !fa4.afrag<128x64xbf16, warps = 8>
      %o2 = fa4.pv_mma %pa, %sv, %o : !fa4.afrag<128x64xbf16, warps = 8>, !fa4.smem<64x64xbf16> -> !fa4.acc<128x64xf32, warps = 8>
      fa4.store_tile %o2, %out[%i] limit %i stride %i : !fa4.acc<128x64xf32, warps = 8> as bf16
    }
    gpu.return
  }
}

// -----

// Finalize: 1/l with l == 0 -> O = 0, LSE = (m*s + lg2 l) * ln 2 or -inf;
// stores are row-predicated, LSE by one lane per quad.
// CHECK-LABEL: gpu.func @finalize_and_store
// CHECK: llvm.call_intrinsic "llvm.nvvm.lg2.approx.f"
// CHECK: arith.divf
// CHECK: scf.if
// CHECK:   llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : i32, !llvm.ptr<1>
// CHECK: scf.if
// CHECK:   llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : f32, !llvm.ptr<1>
gpu.module @m {
  gpu.func @finalize_and_store(%x: f32, %out: !llvm.ptr<1>, %i: i32) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    %o = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    %m = fa4.splat %x : !fa4.rows<128, warps = 8>
    %o2, %lse = fa4.finalize %o, %m, %m scale %x : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
    fa4.store_tile %o2, %out[%i] limit %i stride %i : !fa4.acc<128x64xf32, warps = 8> as bf16
    fa4.store_rows %lse, %out[%i] limit %i : !fa4.rows<128, warps = 8>
    gpu.return
  }
}

// -----

// Register tiles are one vector per thread (128x64 over 8 warps: 32 f32);
// loop-carried ones go through scf's structural type conversion. A rescale
// is one multiply per accumulator.
// CHECK-LABEL: gpu.func @loop_carried
// CHECK: %[[INIT:.*]] = vector.broadcast %{{.*}} : f32 to vector<32xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[INIT]]) -> (vector<32xf32>)
// CHECK-COUNT-32: arith.mulf
// CHECK-NOT: arith.mulf
// CHECK: scf.yield %{{.*}} : vector<32xf32>
// CHECK-NOT: fa4.
gpu.module @m {
  gpu.func @loop_carried(%x: f32, %n: i32, %out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    %o = fa4.splat %x : !fa4.acc<128x64xf32, warps = 8>
    %c = fa4.splat %x : !fa4.rows<128, warps = 8>
    %z = arith.constant 0 : i32
    %one = arith.constant 1 : i32
    %r = scf.for %iv = %z to %n step %one iter_args(%a = %o) -> (!fa4.acc<128x64xf32, warps = 8>) : i32 {
      %a2 = fa4.rescale %a by %c : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>
      scf.yield %a2 : !fa4.acc<128x64xf32, warps = 8>
    }
    fa4.store_tile %r, %out[%z] limit %n stride %n : !fa4.acc<128x64xf32, warps = 8> as bf16
    gpu.return
  }
}

// -----

// Thread 0 initializes every barrier of the array (8 bytes apart), fences
// the initialization for the async proxy, and the CTA synchronizes.
// CHECK-LABEL: gpu.func @barrier_init
// CHECK: %[[BASE:.*]] = llvm.getelementptr %{{.*}}[98304] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK: %[[TID:.*]] = nvvm.read.ptx.sreg.tid.x range <i32, 0, 384> : i32
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[TID]], %{{.*}} : i32
// CHECK: scf.if %[[FIRST]] {
// CHECK-NEXT: nvvm.mbarrier.init %[[BASE]], %{{.*}} : !llvm.ptr<3>, i32
// CHECK-NEXT: %[[SECOND:.*]] = llvm.getelementptr %[[BASE]][8] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK-NEXT: nvvm.mbarrier.init %[[SECOND]], %{{.*}} : !llvm.ptr<3>, i32
// CHECK-NEXT: nvvm.fence.mbarrier.init
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.barrier0
gpu.module @m {
  gpu.func @barrier_init() kernel attributes {known_block_size = array<i32: 384, 1, 1>} {
    fa4.scope "dense" {
      %full = fa4.smem_barriers "full" at 98304 : !fa4.mbarriers<2>
      fa4.barrier_init %full arrivals(256) : !fa4.mbarriers<2>
    }
    gpu.return
  }
}

// -----

// Barrier i of an array lives at base + 8 i.
// CHECK-LABEL: gpu.func @barrier_arrive_tx
// CHECK: %[[OFF:.*]] = arith.shli %{{.*}}, %{{.*}} : i32
// CHECK: %[[BAR:.*]] = llvm.getelementptr %{{.*}}[%[[OFF]]] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i8
// CHECK: nvvm.mbarrier.arrive.expect_tx %[[BAR]], %{{.*}} : !llvm.ptr<3>, i32
gpu.module @m {
  gpu.func @barrier_arrive_tx(%i: i32) kernel attributes {known_block_size = array<i32: 384, 1, 1>} {
    fa4.scope "dense" {
      %full = fa4.smem_barriers "full" at 98304 : !fa4.mbarriers<2>
      fa4.barrier_arrive_tx %full[%i] bytes(32768) : !fa4.mbarriers<2>
    }
    gpu.return
  }
}

// -----

// CHECK-LABEL: gpu.func @barrier_arrive
// CHECK: nvvm.mbarrier.arrive %{{.*}} : !llvm.ptr<3>
gpu.module @m {
  gpu.func @barrier_arrive(%i: i32) kernel attributes {known_block_size = array<i32: 384, 1, 1>} {
    fa4.scope "dense" {
      %empty = fa4.smem_barriers "empty" at 98320 : !fa4.mbarriers<2>
      fa4.barrier_arrive %empty[%i] : !fa4.mbarriers<2>
    }
    gpu.return
  }
}

// -----

// The wait is try_wait.parity with a suspend-time hint; NVVM spins on it.
// CHECK-LABEL: gpu.func @barrier_wait
// CHECK-SAME: (%{{.*}}: i32, %[[PHASE:.*]]: i32)
// CHECK: nvvm.mbarrier.try_wait.parity %{{.*}}, %[[PHASE]], %{{.*}} : !llvm.ptr<3>, i32, i32
gpu.module @m {
  gpu.func @barrier_wait(%i: i32, %phase: i32) kernel attributes {known_block_size = array<i32: 384, 1, 1>} {
    fa4.scope "dense" {
      %full = fa4.smem_barriers "full" at 98304 : !fa4.mbarriers<2>
      fa4.barrier_wait %full[%i] phase %phase : !fa4.mbarriers<2>
    }
    gpu.return
  }
}

// -----

// One CTA-only bulk tensor copy per 64-column (128-byte) chunk of the tile,
// at column 64 c and the tile's own 8 KB chunk of shared memory.
// CHECK-LABEL: gpu.func @tma_load
// CHECK-SAME: (%[[DESC:.*]]: !llvm.ptr, %[[ROW:.*]]: i32, %[[HEAD:.*]]: i32, %[[BATCH:.*]]: i32, %{{.*}}: i32)
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : i32
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i32
// CHECK: %[[TILE:.*]] = llvm.getelementptr %{{.*}}[32768] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK: %[[BAR:.*]] = llvm.getelementptr %{{.*}}[%{{.*}}] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i8
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %[[TILE]], %[[DESC]], %[[BAR]], box[%[[C0]], %[[ROW]], %[[HEAD]], %[[BATCH]]] {isCTAOnly = true} : !llvm.ptr<3>, !llvm.ptr
// CHECK: %[[CHUNK:.*]] = llvm.getelementptr %[[TILE]][8192] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %[[CHUNK]], %[[DESC]], %[[BAR]], box[%[[C64]], %[[ROW]], %[[HEAD]], %[[BATCH]]] {isCTAOnly = true} : !llvm.ptr<3>, !llvm.ptr
// CHECK-NOT: nvvm.cp.async.bulk.tensor
gpu.module @m {
  gpu.func @tma_load(%desc: !llvm.ptr, %row: i32, %head: i32, %batch: i32, %i: i32) kernel attributes {known_block_size = array<i32: 384, 1, 1>} {
    fa4.scope "dense" {
      %k = fa4.smem_buffer "K0" at 32768 : !fa4.smem<64x128xbf16>
      %full = fa4.smem_barriers "full" at 98304 : !fa4.mbarriers<2>
      fa4.tma_load %desc[%row, %head, %batch] into %k, %full[%i] : !fa4.smem<64x128xbf16>, !fa4.mbarriers<2>
    }
    gpu.return
  }
}

// -----

// Warps 8.. (the producer warp group) give registers back and lane 0 of warp
// 8 runs the producer region; the MMA warps take the registers and run the
// consumers region.
// CHECK-LABEL: gpu.func @warp_specialize
// CHECK: %[[TID:.*]] = nvvm.read.ptx.sreg.tid.x range <i32, 0, 384> : i32
// CHECK: %[[WARP:.*]] = arith.shrui %[[TID]], %{{.*}} : i32
// CHECK: %[[PRODUCER:.*]] = arith.cmpi sge, %[[WARP]], %{{.*}} : i32
// CHECK: scf.if %[[PRODUCER]] {
// CHECK-NEXT: nvvm.setmaxregister decrease 40
// CHECK: %[[FIRST_WARP:.*]] = arith.cmpi eq, %[[WARP]], %{{.*}} : i32
// CHECK: %[[LANE:.*]] = arith.andi %[[TID]], %{{.*}} : i32
// CHECK: %[[LANE0:.*]] = arith.cmpi eq, %[[LANE]], %{{.*}} : i32
// CHECK: %[[LEADER:.*]] = arith.andi %[[FIRST_WARP]], %[[LANE0]] : i1
// CHECK: scf.if %[[LEADER]] {
// CHECK: nvvm.mbarrier.arrive.expect_tx
// CHECK: } else {
// CHECK-NEXT: nvvm.setmaxregister increase 232
// CHECK: nvvm.mbarrier.arrive %{{.*}} : !llvm.ptr<3>
gpu.module @m {
  gpu.func @warp_specialize(%i: i32) kernel attributes {known_block_size = array<i32: 384, 1, 1>} {
    fa4.scope "dense" {
      %full = fa4.smem_barriers "full" at 98304 : !fa4.mbarriers<2>
      fa4.warp_specialize consumer_warps(8) registers(40, 232) producer {
        fa4.barrier_arrive_tx %full[%i] bytes(32768) : !fa4.mbarriers<2>
      } consumers {
        fa4.barrier_arrive %full[%i] : !fa4.mbarriers<2>
      }
    }
    gpu.return
  }
}

// -----

// Without register counts (targets without setmaxnreg) there is no
// setmaxnreg.
// CHECK-LABEL: gpu.func @warp_specialize_no_registers
// CHECK-NOT: nvvm.setmaxregister
// CHECK: gpu.return
gpu.module @m {
  gpu.func @warp_specialize_no_registers(%i: i32) kernel attributes {known_block_size = array<i32: 384, 1, 1>} {
    fa4.scope "dense" {
      %full = fa4.smem_barriers "full" at 98304 : !fa4.mbarriers<2>
      fa4.warp_specialize consumer_warps(8) producer {
        fa4.barrier_arrive_tx %full[%i] bytes(32768) : !fa4.mbarriers<2>
      } consumers {
        fa4.barrier_arrive %full[%i] : !fa4.mbarriers<2>
      }
    }
    gpu.return
  }
}

// -----

// fa4.kv_range becomes its formulas in i32; with constant operands they
// fold to what fa4.kv_range's own folder gives (canonicalize.mlir).
// CHECK-LABEL: gpu.func @kv_range_constants
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[C14:.*]] = arith.constant 14 : i32
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : i32
// CHECK: "use"(%[[C0]], %[[C0]], %[[C14]], %[[C16]])
gpu.module @m {
  gpu.func @kv_range_constants() kernel {
    %row = arith.constant 896 : i32
    %s = arith.constant 1000 : i32
    %r:4 = fa4.kv_range causal rows(%row, 128) seqlen(%s, %s) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// A window (256, 0) over rows 1024..1151 of 4096 x 4096: blocks 12..17,
// 12 and 13 masked on the left edge, 16 and 17 on the diagonal; the same
// numbers as the folder's (canonicalize.mlir).
// CHECK-LABEL: gpu.func @kv_range_window_constants
// CHECK-DAG: %[[C12:.*]] = arith.constant 12 : i32
// CHECK-DAG: %[[C14:.*]] = arith.constant 14 : i32
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : i32
// CHECK-DAG: %[[C18:.*]] = arith.constant 18 : i32
// CHECK: "use"(%[[C12]], %[[C14]], %[[C16]], %[[C18]])
gpu.module @m {
  gpu.func @kv_range_window_constants() kernel {
    %row = arith.constant 1024 : i32
    %s = arith.constant 4096 : i32
    %left = arith.constant 256 : i32
    %right = arith.constant 0 : i32
    %r:4 = fa4.kv_range local window(%left, %right) rows(%row, 128) seqlen(%s, %s) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// The last m-block, rows 256..383 of 300 x 300, window (100, 0): the left
// edge counts only rows that exist (row 299's first key, 199), so
// full_begin is 4, not 5; the folder's numbers (canonicalize.mlir).
// CHECK-LABEL: gpu.func @kv_range_window_last_rows
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i32
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : i32
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : i32
// CHECK: "use"(%[[C2]], %[[C4]], %[[C4]], %[[C5]])
gpu.module @m {
  gpu.func @kv_range_window_last_rows() kernel {
    %row = arith.constant 256 : i32
    %s = arith.constant 300 : i32
    %left = arith.constant 100 : i32
    %right = arith.constant 0 : i32
    %r:4 = fa4.kv_range local window(%left, %right) rows(%row, 128) seqlen(%s, %s) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// With run-time lengths: ceil-division for the end, the causal bound, and
// the masked boundary clamped into [begin, end].
// CHECK-LABEL: gpu.func @kv_range_dynamic
// CHECK-DAG: arith.ceildivsi %{{.*}}, %c64_i32
// CHECK-DAG: arith.remsi %{{.*}}, %c64_i32
// CHECK-DAG: arith.floordivsi
// CHECK: arith.minsi
// CHECK: arith.maxsi
// CHECK-NOT: fa4.kv_range
gpu.module @m {
  gpu.func @kv_range_dynamic(%row: i32, %sq: i32, %sk: i32) kernel {
    %r:4 = fa4.kv_range causal rows(%row, 128) seqlen(%sq, %sk) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// fa4.varlen_seqlens: cu_seqlens[b] and [b + 1] of each, clamped to the
// totals; seqused_k read only when it is not null.
// CHECK-LABEL: gpu.func @varlen_seqlens
// CHECK-COUNT-4: llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr<1> -> i32
// CHECK: %[[GIVEN:.*]] = llvm.icmp "ne" %{{.*}}, %{{.*}} : !llvm.ptr<1>
// CHECK: scf.if %[[GIVEN]] -> (i32)
// CHECK:   llvm.load
// CHECK:   arith.maxsi
// CHECK:   arith.minsi
// CHECK: } else {
// CHECK-NOT: fa4.varlen_seqlens
gpu.module @m {
  gpu.func @varlen_seqlens(%b: i32, %cq: !llvm.ptr<1>, %ck: !llvm.ptr<1>, %used: !llvm.ptr<1>,
                           %tq: i32, %tk: i32) kernel {
    %r:4 = fa4.varlen_seqlens %b cu_seqlens(%cq, %ck) seqused_k(%used) totals(%tq, %tk)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// Paged rows: per pass the row's page index by mul.hi and shift, one table
// load, the index clamped below num_pages, a 64-bit page offset; then the
// pass's 16-byte copies. 64 rows over 256 threads: 2 passes of 2 chunks.
// CHECK-LABEL: gpu.func @load_paged_tile
// CHECK: arith.mului_extended
// CHECK: arith.shrui
// CHECK: llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr<1> -> i32
// CHECK: arith.minui
// CHECK: arith.muli %{{.*}}, %{{.*}} : i64
// CHECK-COUNT-2: nvvm.cp.async.shared.global
// CHECK: arith.mului_extended
// CHECK: llvm.load
// CHECK-COUNT-2: nvvm.cp.async.shared.global
// CHECK-NOT: nvvm.cp.async.shared.global
// CHECK-NOT: arith.divui
gpu.module @m {
  gpu.func @load_paged_tile(%g: !llvm.ptr<1>, %table: !llvm.ptr<1>, %row: i32, %limit: i32,
                            %stride: i32, %page: i32, %magic: i32, %shift: i32, %pstride: i64,
                            %pages: i32) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.scope "paged" {
      %k = fa4.smem_buffer "K" at 0 : !fa4.smem<64x128xbf16>
      fa4.load_paged_tile %g[%row] limit %limit stride %stride pages(%table, %page, %magic, %shift, %pstride, %pages) into %k : !fa4.smem<64x128xbf16>
    }
    gpu.return
  }
}

// -----

// fa4.fill_nan: warps over rows, lanes over columns, a quiet NaN each.
// CHECK-LABEL: gpu.func @fill_nan
// CHECK: %[[NAN:.*]] = arith.constant 0x7FC0 : bf16
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     llvm.store %[[NAN]], %{{.*}} : bf16, !llvm.ptr<1>
gpu.module @m {
  gpu.func @fill_nan(%o: !llvm.ptr<1>, %from: i32, %to: i32, %stride: i32) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    fa4.fill_nan %o[%from to %to] stride %stride cols(128) as bf16
    gpu.return
  }
}

// -----

// A split range: the m-block's [begin, end) cut in num_splits parts of
// ceil(span / n) blocks; split i keeps its part, the masked and unmasked
// bounds clamped into it.
// CHECK-LABEL: gpu.func @kv_range_split
// CHECK: %[[PER:.*]] = arith.ceildivsi %{{.*}}, %arg4 : i32
// CHECK: %[[OFF:.*]] = arith.muli %arg3, %[[PER]] : i32
// CHECK: %[[FIRST:.*]] = arith.minsi %[[OFF]], %{{.*}} : i32
// CHECK: %[[UP:.*]] = arith.addi %[[FIRST]], %[[PER]] : i32
// CHECK: %[[LAST:.*]] = arith.minsi %[[UP]], %{{.*}} : i32
// CHECK: "use"(%[[FIRST]], %{{.*}}, %{{.*}}, %[[LAST]])
// CHECK-NOT: fa4.kv_range
gpu.module @m {
  gpu.func @kv_range_split(%row: i32, %sq: i32, %sk: i32, %i: i32, %n: i32) kernel {
    %r:4 = fa4.kv_range causal rows(%row, 128) seqlen(%sq, %sk) block(64) split(%i of %n)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// fa4.cache_seqlens: each of the three int32 arrays read only when its
// pointer is not null; the entry clamped below `entries`, the left padding
// and the length into the capacity.
// CHECK-LABEL: gpu.func @cache_seqlens
// CHECK: %[[IDX:.*]] = llvm.icmp "ne" %{{.*}}, %{{.*}} : !llvm.ptr<1>
// CHECK: scf.if %[[IDX]] -> (i32)
// CHECK:   llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr<1> -> i32
// CHECK:   arith.maxsi
// CHECK:   arith.minsi
// CHECK: } else {
// CHECK: %[[PAD:.*]] = llvm.icmp "ne"
// CHECK: scf.if %[[PAD]] -> (i32)
// CHECK: %[[LEN:.*]] = llvm.icmp "ne"
// CHECK: %[[CACHED:.*]] = scf.if %[[LEN]] -> (i32)
// CHECK: %[[TOTAL:.*]] = arith.addi %[[CACHED]], %{{.*}} : i32
// CHECK: arith.maxsi %[[TOTAL]]
// CHECK: arith.minsi
// CHECK: arith.subi
// CHECK-NOT: fa4.cache_seqlens
gpu.module @m {
  gpu.func @cache_seqlens(%b: i32, %lens: !llvm.ptr<1>, %idx: !llvm.ptr<1>, %pad: !llvm.ptr<1>,
                          %default: i32, %new: i32, %entries: i32, %capacity: i32) kernel {
    %r:3 = fa4.cache_seqlens %b seqlens(%lens, %default) new(%new) batch_idx(%idx) leftpad(%pad) entries(%entries) capacity(%capacity)
    "use"(%r#0, %r#1, %r#2) : (i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// Split-KV's fp32 partial output: each lane stores its two adjacent columns
// as one 8-byte vector per n8 tile (no rounding).
// CHECK-LABEL: gpu.func @store_tile_f32
// CHECK: scf.if
// 64x64 over 4 warps: 2 rows x 8 n-tiles per lane.
// CHECK-COUNT-16: llvm.store %{{.*}}, %{{.*}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<1>
// CHECK-NOT: llvm.store
gpu.module @m {
  gpu.func @store_tile_f32(%out: !llvm.ptr<1>, %row: i32, %stride: i32) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
    %z = arith.constant 0.0 : f32
    %o = fa4.splat %z : !fa4.acc<64x64xf32, warps = 4>
    fa4.store_tile %o, %out[%row] limit %row stride %stride : !fa4.acc<64x64xf32, warps = 4> as f32
    gpu.return
  }
}

// -----

// Dropout keep bits: one Philox 4x32-10 call per lane per 16 x 32 block. A
// 64 x 64 tile on 4 warps is one m16 tile and two 32-column blocks per
// warp: two calls, each ten rounds of two 32 x 32 -> 64-bit multiplies; the
// counter is (32 (col / 32) + lane, (row + 16 warp) / 16, stream). Each of
// the 32 values is kept when its 8-bit draw (byte c of word nt % 4) is
// below `keep`: bit 4 nt + c of one word. The byte is compared in place:
// the word shifted left by 24 - 8c against keep * 2^24 - 1.
// CHECK-LABEL: gpu.func @dropout_mask
// CHECK: %[[LANE:.*]] = arith.andi %{{.*}}, %c31_i32 : i32
// CHECK: %[[WARP:.*]] = arith.shrui %{{.*}}, %c5_i32 : i32
// CHECK: %[[WROW:.*]] = arith.muli %[[WARP]], %c16_i32 : i32
// CHECK: %[[ROW:.*]] = arith.addi %arg0, %[[WROW]] : i32
// CHECK: %[[RB:.*]] = arith.shrui %[[ROW]], %c4_i32 : i32
// CHECK: %[[CB:.*]] = arith.shrui %arg1, %c5_i32 : i32
// CHECK: %[[C32:.*]] = arith.shli %[[CB]], %c5_i32 : i32
// CHECK: %[[W0:.*]] = arith.addi %[[C32]], %[[LANE]] : i32
// CHECK: %[[KS:.*]] = arith.shli %arg4, %c24_i32 : i32
// CHECK: %[[T:.*]] = arith.subi %[[KS]], %c1_i32 : i32
// Round 1: M0 * c0 and M1 * c2 (0xD2511F53, 0xCD9E8D57), then
// hi1 ^ c1 ^ k0.
// CHECK: %{{.*}}, %[[HI0:.*]] = arith.mului_extended %[[W0]], %c-766435501_i32 : i32
// CHECK: %{{.*}}, %[[HI1:.*]] = arith.mului_extended %arg3, %c-845247145_i32 : i32
// CHECK: %[[X:.*]] = arith.xori %[[HI1]], %[[RB]] : i32
// CHECK: arith.xori %[[X]], %arg2 : i32
// CHECK-COUNT-18: arith.mului_extended
// CHECK-NOT: arith.mului_extended
// Fragment 0 reads word 0: byte 0 (shifted by 24) is bit 0, byte 1 (by
// 16) bit 1, ..., byte 3 (the word itself) bit 3.
// CHECK: %[[B0:.*]] = arith.shli %[[WORD0:.*]], %c24_i32 : i32
// CHECK: %[[K0:.*]] = arith.cmpi ule, %[[B0]], %[[T]] : i32
// CHECK: %[[B1:.*]] = arith.shli %[[WORD0]], %c16_i32 : i32
// CHECK: %[[K1:.*]] = arith.cmpi ule, %[[B1]], %[[T]] : i32
// CHECK: %[[B2:.*]] = arith.shli %[[WORD0]], %c8_i32 : i32
// CHECK: %[[K2:.*]] = arith.cmpi ule, %[[B2]], %[[T]] : i32
// CHECK: %[[K3:.*]] = arith.cmpi ule, %[[WORD0]], %[[T]] : i32
// The second 32-column block: word 0 is 32 further. Two of its products
// are the first block's (CSE): round 1's M1 * stream_lo, and round 2's
// M0 * c0, since round 1's first output word does not depend on word 0.
// CHECK: %[[W1:.*]] = arith.addi %[[W0]], %c32_i32 : i32
// CHECK: arith.mului_extended %[[W1]], %c-766435501_i32 : i32
// CHECK-COUNT-17: arith.mului_extended
// CHECK-NOT: arith.mului_extended
// Its last value is bit 31. The 32 bits are one vector<32xi1>, bitcast to
// the i32 word (bit i is element i): no select, shift or or per bit.
// CHECK-NOT: arith.select
// CHECK-NOT: arith.ori
// CHECK: %[[BITS:.*]] = vector.from_elements %[[K0]], %[[K1]], %[[K2]], %[[K3]], {{.*}} : vector<32xi1>
// CHECK: %[[WORDS:.*]] = vector.bitcast %[[BITS]] : vector<32xi1> to vector<1xi32>
// CHECK: %[[WORD:.*]] = vector.extract %[[WORDS]][0] : i32 from vector<1xi32>
// CHECK: llvm.store %[[WORD]], %arg5 : i32, !llvm.ptr<1>
// CHECK: gpu.return
gpu.module @m {
  gpu.func @dropout_mask(%row: i32, %col: i32, %seed: i32, %stream: i32, %keep: i32, %out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
    %bits = fa4.dropout_mask row %row col %col seed(%seed, %seed) stream(%stream, %stream) keep %keep : !fa4.acc<64x64xf32, warps = 4> -> vector<1xi32>
    %w = vector.extract %bits[0] : i32 from vector<1xi32>
    llvm.store %w, %out : i32, !llvm.ptr<1>
    gpu.return
  }
}

// -----

// Applying the bits: value c of fragment nt takes bit 4 nt + c (element
// 4 nt + c of the words seen as a vector<32xi1>) and keeps the value or
// zeroes it; no scaling (the epilogue's).
// CHECK-LABEL: gpu.func @dropout
// CHECK: %[[BITS:.*]] = vector.bitcast %arg1 : vector<1xi32> to vector<32xi1>
// CHECK: %[[K0:.*]] = vector.extract %[[BITS]][0] : i1 from vector<32xi1>
// CHECK: %[[K4:.*]] = vector.extract %[[BITS]][4] : i1 from vector<32xi1>
// CHECK: %[[K15:.*]] = vector.extract %[[BITS]][15] : i1 from vector<32xi1>
// CHECK: arith.select %[[K0]], %arg0, %cst : f32
// CHECK: arith.select %[[K4]], %arg0, %cst : f32
// CHECK: arith.select %[[K15]], %arg0, %cst : f32
// CHECK-NOT: arith.mulf
// CHECK: gpu.return
gpu.module @m {
  gpu.func @dropout(%x: f32, %bits: vector<1xi32>, %row: i32, %out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
    %s = fa4.splat %x : !fa4.acc<64x32xf32, warps = 4>
    %d = fa4.dropout %s bits %bits : !fa4.acc<64x32xf32, warps = 4>, vector<1xi32>
    fa4.store_tile %d, %out[%row] limit %row stride %row : !fa4.acc<64x32xf32, warps = 4> as bf16
    gpu.return
  }
}

// -----

// S_dmask's encoding: a dropped value becomes its negation, not 0.
// CHECK-LABEL: gpu.func @dropout_negated
// CHECK: %[[BITS:.*]] = vector.bitcast %arg1 : vector<1xi32> to vector<32xi1>
// CHECK: %[[K0:.*]] = vector.extract %[[BITS]][0] : i1 from vector<32xi1>
// CHECK: %[[N0:.*]] = arith.negf %arg0 : f32
// CHECK: arith.select %[[K0]], %arg0, %[[N0]] : f32
// CHECK: gpu.return
gpu.module @m {
  gpu.func @dropout_negated(%x: f32, %bits: vector<1xi32>, %row: i32, %out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
    %s = fa4.splat %x : !fa4.acc<64x32xf32, warps = 4>
    %d = fa4.dropout %s bits %bits negated : !fa4.acc<64x32xf32, warps = 4>, vector<1xi32>
    fa4.store_tile %d, %out[%row] limit %row stride %row : !fa4.acc<64x32xf32, warps = 4> as bf16
    gpu.return
  }
}

// -----

// The two ops next to each other (as fa4-tile-attention places them): the
// bitcast pair folds away and each select takes its compare.
// CHECK-LABEL: gpu.func @dropout_adjacent
// CHECK-NOT: xi1>
// CHECK: %[[T:.*]] = arith.subi %{{.*}}, %c1_i32 : i32
// CHECK-NOT: xi1>
// CHECK: %[[K0:.*]] = arith.cmpi ule, %{{.*}}, %[[T]] : i32
// CHECK-NOT: xi1>
// CHECK: arith.select %[[K0]], %arg0, %cst : f32
// CHECK-NOT: xi1>
// CHECK: gpu.return
gpu.module @m {
  gpu.func @dropout_adjacent(%x: f32, %row: i32, %col: i32, %seed: i32, %stream: i32, %keep: i32, %out: !llvm.ptr<1>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
    %s = fa4.splat %x : !fa4.acc<64x32xf32, warps = 4>
    %bits = fa4.dropout_mask row %row col %col seed(%seed, %seed) stream(%stream, %stream) keep %keep : !fa4.acc<64x32xf32, warps = 4> -> vector<1xi32>
    %d = fa4.dropout %s bits %bits : !fa4.acc<64x32xf32, warps = 4>, vector<1xi32>
    fa4.store_tile %d, %out[%row] limit %row stride %row : !fa4.acc<64x32xf32, warps = 4> as bf16
    gpu.return
  }
}

// -----

// The combine of one row's 4 columns: one online pass over the splits, 16
// at a time. A round issues its 16 LSE loads and 16 16-byte O loads (the
// index clamped to the last split) before any arithmetic, masks the lanes
// past the count to -inf, and rescales the running sum and accumulator to
// the new max; the end divides by the sum.
// CHECK-LABEL: gpu.func @merge_splits
// CHECK: %[[LOOP:.*]]:3 = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[M:.*]] = %{{.*}}, %[[S:.*]] = %{{.*}}, %[[A:.*]] = %{{.*}}) -> (f32, f32, vector<4xf32>)
// CHECK-COUNT-16: arith.minsi
// CHECK-NOT: llvm.call_intrinsic
// CHECK:   llvm.load %{{.*}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xf32>
// CHECK-NOT: llvm.call_intrinsic
// CHECK:   arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK:   llvm.intr.maxnum
// CHECK:   llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f32"
// CHECK-COUNT-16: llvm.intr.fma(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<4xf32>, vector<4xf32>, vector<4xf32>) -> vector<4xf32>
// CHECK: scf.yield
// CHECK: llvm.call_intrinsic "llvm.nvvm.lg2.approx.f"
// CHECK: arith.divf
// CHECK: llvm.fmul %[[LOOP]]#2
// CHECK-NOT: fa4.merge_splits
gpu.module @m {
  gpu.func @merge_splits(%o: !llvm.ptr<1>, %l: !llvm.ptr<1>, %n: i32, %so: i64, %sl: i64) kernel {
    %out, %lse = fa4.merge_splits %o, %l splits(%n) strides(%so, %sl) : vector<4xf32>
    "use"(%out, %lse) : (vector<4xf32>, f32) -> ()
    gpu.return
  }
}

// -----

// GQA packing: a grouped tile row p is head p % g of sequence row p / g;
// each pass computes its row's address (rows past the limit use row 0's
// and copy zeros), the mask compares keys with query p / g, and the stores
// address rows the same way.
// CHECK-LABEL: gpu.func @grouped_rows
// CHECK: arith.divui %{{.*}}, %arg3 : i32
// CHECK: arith.remui %{{.*}}, %arg3 : i32
// CHECK: arith.muli %{{.*}}, %arg4 : i64
// CHECK: nvvm.cp.async.shared.global
// CHECK: arith.divui %{{.*}}, %arg3 : i32
// CHECK: arith.cmpi slt
// CHECK: arith.select
// CHECK: scf.if
// CHECK: llvm.store %{{.*}} {alignment = 4 : i64} : i32, !llvm.ptr<1>
// CHECK-NOT: fa4.
gpu.module @m {
  gpu.func @grouped_rows(%p: !llvm.ptr<1>, %row: i32, %rows: i32, %g: i32, %hs: i64, %stride: i32) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
    fa4.scope "cache" {
      %sq = fa4.smem_buffer "Q" at 0 : !fa4.smem<64x64xbf16>
      fa4.load_tile %p[%row] limit %rows stride %stride group(%g, %hs) into %sq : !fa4.smem<64x64xbf16>
      %z = arith.constant 0.0 : f32
      %s = fa4.splat %z : !fa4.acc<64x64xf32, warps = 4>
      %m = fa4.mask %s row %row col %row limit %rows diag_max %row group %g : !fa4.acc<64x64xf32, warps = 4>
      fa4.store_tile %m, %p[%row] limit %rows stride %stride group(%g, %hs) : !fa4.acc<64x64xf32, warps = 4> as bf16
    }
    gpu.return
  }
}

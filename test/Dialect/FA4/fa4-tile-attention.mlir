// RUN: fa4-opt %s --split-input-file --fa4-tile-attention | FileCheck %s
// RUN: fa4-opt %s --split-input-file --fa4-tile-attention="chip=sm_90" | FileCheck %s --check-prefix=SM90

// The kernel ABI comes from one table; its names become fa4.abi, and the
// features plus the chosen configuration become fa4.features.
// CHECK-LABEL: gpu.module @dense
// CHECK: gpu.func @dense(%{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i32,
// CHECK-SAME: f32) kernel
// CHECK-SAME: fa4.abi = ["q", "k", "v", "o", "lse", "seqlen_q", "seqlen_k", "head_ratio", "q_batch_stride", "q_head_stride", "q_row_stride", "k_batch_stride", "k_head_stride", "k_row_stride", "v_batch_stride", "v_head_stride", "v_row_stride", "o_batch_stride", "o_head_stride", "o_row_stride", "lse_batch_stride", "lse_head_stride", "softmax_scale"]
// CHECK-SAME: fa4.features = {{{.*}}causal = false{{.*}}head_dim = 128{{.*}}num_stages = 1 : i64, num_warps = 8 : i64{{.*}}q_in_registers = true, {{.*}}target = "sm_120a", tile_m = 128 : i64, tile_n = 128 : i64
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
// SM90: target = "sm_90"
// The block program lives in one scope that owns its buffers.
// CHECK: fa4.scope "dense"
// CHECK: %[[MB:.*]] = gpu.block_id x
// CHECK: gpu.block_id y
// CHECK: gpu.block_id z
// GQA: the key/value head is the query head divided by the ratio.
// CHECK: arith.divui
// CHECK-DAG: %[[SQ:.*]] = fa4.smem_buffer "Q" : !fa4.smem<128x128xbf16>
// CHECK-DAG: %[[SK:.*]] = fa4.smem_buffer "K" : !fa4.smem<128x128xbf16>
// CHECK-DAG: %[[SV:.*]] = fa4.smem_buffer "V" : !fa4.smem<128x128xbf16>
// CHECK: %[[O0:.*]] = fa4.splat %{{.*}} : !fa4.acc<128x128xf32, warps = 8>
// CHECK: %[[M0:.*]] = fa4.splat %{{.*}} : !fa4.rows<128, warps = 8>
// CHECK: %[[L0:.*]] = fa4.splat %{{.*}} : !fa4.rows<128, warps = 8>
// The main loop is guarded: an empty key range yields O = 0, m = -inf, l = 0.
// CHECK: %[[R:.*]]:3 = fa4.guard %{{.*}} else(%[[O0]], %[[M0]], %[[L0]] :
// CHECK:   fa4.load_tile %{{.*}} into %[[SQ]]
// CHECK:   fa4.load_tile %{{.*}} into %[[SK]]
// CHECK:   fa4.commit_loads
// Q is read into registers once, after its own load group landed.
// CHECK:   fa4.wait_loads {pending = 1 : i32}
// CHECK:   %[[QA:.*]] = fa4.load_a %[[SQ]] : !fa4.smem<128x128xbf16> -> !fa4.afrag<128x128xbf16, warps = 8>
// The masked loop (the ragged last block) comes first...
// CHECK:   scf.for {{.*}} iter_args
// CHECK:     fa4.wait_loads {pending = 0 : i32}
// CHECK:     fa4.load_tile %{{.*}} into %[[SV]]
// CHECK:     %[[S:.*]] = fa4.qk_mma %[[QA]], %[[SK]]
// CHECK:     %[[SM:.*]] = fa4.mask %[[S]] row %{{.*}} col %{{.*}} limit %{{.*}} :
// CHECK:     fa4.wait_loads {pending = 0 : i32}
// CHECK:     scf.if
// CHECK:       fa4.load_tile %{{.*}} into %[[SK]]
// CHECK:     %[[P:.*]], %[[M:.*]], %[[L:.*]], %[[C:.*]] = fa4.online_softmax %[[SM]]
// CHECK:     %[[OS:.*]] = fa4.rescale %{{.*}} by %[[C]]
// CHECK:     %[[PA:.*]] = fa4.pack_a %[[P]] : !fa4.acc<128x128xf32, warps = 8> -> !fa4.afrag<128x128xbf16, warps = 8>
// CHECK:     fa4.pv_mma %[[PA]], %[[SV]], %[[OS]]
// ...then the unmasked one, which has no fa4.mask.
// CHECK:   scf.for
// CHECK-NOT: fa4.mask
// CHECK:   fa4.yield
// CHECK: %[[OUT:.*]], %[[LSE:.*]] = fa4.finalize %[[R]]#0, %[[R]]#1, %[[R]]#2
// CHECK: fa4.store_tile %[[OUT]], {{.*}} as bf16
// The LSE store is skipped at run time when the lse pointer is null.
// CHECK: llvm.icmp "ne"
// CHECK: scf.if
// CHECK:   fa4.store_rows %[[LSE]]
// CHECK: gpu.return
fa4.attention @dense dtype(bf16) head_dim(128) head_dim_v(128) gqa lse
    load_path(cp_async) stages(1)

// -----

// Causal: bottom-right aligned (offset Sk - Sq), CTAs longest-first, the
// causal offset reaches fa4.mask. Causal D = 128 keeps Q in shared memory.
// CHECK-LABEL: gpu.module @causal
// CHECK: gpu.grid_dim x
// CHECK: arith.subi
// CHECK: %[[OFF:.*]] = arith.subi %{{.*}}, %{{.*}} : i32
// CHECK: fa4.guard
// CHECK-NOT: fa4.load_a
// CHECK: %[[S:.*]] = fa4.qk_mma %{{.*}}, %{{.*}} : !fa4.smem<128x128xf16>, !fa4.smem<128x128xf16>
// CHECK: fa4.mask %[[S]] row %{{.*}} col %{{.*}} limit %{{.*}} causal %[[OFF]]
// CHECK: fa4.store_tile {{.*}} as f16
fa4.attention @causal dtype(f16) head_dim(128) head_dim_v(128) causal gqa lse
    load_path(cp_async) stages(1)

// -----

// Two stages: K/V buffers ping-pong through the loop, and K/V[n - 1] are
// prefetched into the free stage right after the wait for K/V[n].
// CHECK-LABEL: gpu.module @two_stages
// CHECK-DAG: %[[K0:.*]] = fa4.smem_buffer "K0" : !fa4.smem<64x64xbf16>
// CHECK-DAG: %[[V0:.*]] = fa4.smem_buffer "V0" : !fa4.smem<64x64xbf16>
// CHECK-DAG: %[[K1:.*]] = fa4.smem_buffer "K1" : !fa4.smem<64x64xbf16>
// CHECK-DAG: %[[V1:.*]] = fa4.smem_buffer "V1" : !fa4.smem<64x64xbf16>
// CHECK: fa4.guard
// CHECK:   fa4.load_tile %{{.*}} into %[[K0]]
// CHECK:   fa4.load_tile %{{.*}} into %[[V0]]
// CHECK:   scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %[[KC:.*]] = %[[K0]], %[[VC:.*]] = %[[V0]], %[[KN:.*]] = %[[K1]], %[[VN:.*]] = %[[V1]])
// CHECK:     fa4.wait_loads {pending = 0 : i32}
// CHECK:     scf.if
// CHECK:       fa4.load_tile %{{.*}} into %[[KN]]
// CHECK:       fa4.load_tile %{{.*}} into %[[VN]]
// CHECK:     fa4.qk_mma %{{.*}}, %[[KC]]
// CHECK:     fa4.pv_mma %{{.*}}, %[[VC]], %{{.*}}
// CHECK:     scf.yield %{{.*}}, %{{.*}}, %{{.*}}, %[[KN]], %[[VN]], %[[KC]], %[[VC]]
fa4.attention @two_stages dtype(bf16) head_dim(64) head_dim_v(64) gqa lse
    load_path(cp_async) stages(2)

// -----

// Without lse the kernel never stores one.
// CHECK-LABEL: gpu.module @no_lse
// CHECK-NOT: fa4.store_rows
// CHECK: gpu.return
fa4.attention @no_lse dtype(bf16) head_dim(96) head_dim_v(96)
    load_path(cp_async) stages(1)

// -----

// TMA: three tensor maps join the ABI, 8 MMA warps plus a producer warp
// group (384 threads, capped at 168 registers so the CTA fits the 64K
// register file). A full/empty mbarrier ring of two stages connects one
// producer thread, which issues expect_tx + tma_load per stage, to the MMA
// warps, which wait on full[s] and arrive on empty[s] after their PV MMA.
// setmaxnreg moves registers to the MMA warps on SM120, not on sm_90.
// CHECK-LABEL: gpu.module @tma
// CHECK: gpu.func @tma({{.*}}, %{{.*}}: f32, %[[QD:.*]]: !llvm.ptr, %[[KD:.*]]: !llvm.ptr, %[[VD:.*]]: !llvm.ptr) kernel
// CHECK-SAME: fa4.abi = [{{.*}}"softmax_scale", "q_tma", "k_tma", "v_tma"]
// CHECK-SAME: load_path = "tma"{{.*}}num_stages = 2 : i64{{.*}}tile_m = 128 : i64, tile_n = 64 : i64
// CHECK-SAME: fa4.tensor_maps = {k_tma = {box_cols = 64 : i64, box_rows = 64 : i64, swizzle = 128 : i64, tensor = "k"}, q_tma = {box_cols = 64 : i64, box_rows = 128 : i64, swizzle = 128 : i64, tensor = "q"}, v_tma = {box_cols = 64 : i64, box_rows = 64 : i64, swizzle = 128 : i64, tensor = "v"}}
// CHECK-SAME: known_block_size = array<i32: 384, 1, 1>, nvvm.maxnreg = 168 : i32
// CHECK-DAG: %[[SQ:.*]] = fa4.smem_buffer "Q" : !fa4.smem<128x128xbf16>
// CHECK-DAG: %[[K0:.*]] = fa4.smem_buffer "K0" : !fa4.smem<64x128xbf16>
// CHECK-DAG: %[[V0:.*]] = fa4.smem_buffer "V0" : !fa4.smem<64x128xbf16>
// CHECK-DAG: %[[K1:.*]] = fa4.smem_buffer "K1" : !fa4.smem<64x128xbf16>
// CHECK-DAG: %[[V1:.*]] = fa4.smem_buffer "V1" : !fa4.smem<64x128xbf16>
// CHECK: %[[FULL:.*]] = fa4.smem_barriers "full" : !fa4.mbarriers<2>
// CHECK: %[[EMPTY:.*]] = fa4.smem_barriers "empty" : !fa4.mbarriers<2>
// CHECK: %[[QFULL:.*]] = fa4.smem_barriers "q_full" : !fa4.mbarriers<1>
// CHECK: fa4.barrier_init %[[FULL]] arrivals(1)
// CHECK: fa4.barrier_init %[[EMPTY]] arrivals(256)
// CHECK: fa4.barrier_init %[[QFULL]] arrivals(1)
// CHECK: fa4.warp_specialize consumer_warps(8) registers(40, 232) producer {
// SM90: fa4.warp_specialize consumer_warps(8) producer {
// CHECK:   fa4.barrier_arrive_tx %[[QFULL]][%{{.*}}] bytes(32768)
// CHECK:   fa4.tma_load %[[QD]][%{{.*}}, %{{.*}}, %{{.*}}] into %[[SQ]], %[[QFULL]]
// CHECK:   scf.for {{.*}} iter_args(%[[KS:.*]] = %[[K0]], %{{.*}} = %[[K1]], %[[VS:.*]] = %[[V0]], %{{.*}} = %[[V1]])
// A stage is refilled only after the MMA warps released its previous round.
// CHECK:     scf.if
// CHECK:       fa4.barrier_wait %[[EMPTY]]
// CHECK:     fa4.barrier_arrive_tx %[[FULL]][%{{.*}}] bytes(32768)
// CHECK:     fa4.tma_load %[[KD]][{{.*}}] into %[[KS]], %[[FULL]]
// CHECK:     fa4.tma_load %[[VD]][{{.*}}] into %[[VS]], %[[FULL]]
// CHECK: } consumers {
// CHECK:   fa4.guard
// CHECK:     fa4.barrier_wait %[[QFULL]]
// CHECK:     scf.for
// CHECK:       fa4.barrier_wait %[[FULL]]
// CHECK:       fa4.qk_mma %[[SQ]], %{{.*}} : !fa4.smem<128x128xbf16>, !fa4.smem<64x128xbf16> -> !fa4.acc<128x64xf32, warps = 8>
// CHECK:       fa4.mask
// CHECK:       fa4.pv_mma
// CHECK-NEXT:  fa4.barrier_arrive %[[EMPTY]]
// CHECK:     scf.for
// CHECK:       fa4.barrier_wait %[[FULL]]
// CHECK:       fa4.barrier_arrive %[[EMPTY]]
// CHECK:   fa4.finalize
// CHECK:   fa4.store_tile
fa4.attention @tma dtype(bf16) head_dim(128) head_dim_v(128) causal gqa lse
    load_path(tma) stages(2)

// -----

// Four MMA warps (a 64-row tile) + the producer group: 256 threads, whose
// entry cap is the architectural 255, stated anyway (ptxas would otherwise
// aim at 128 and spill); nothing to redistribute, so no setmaxnreg; the
// empty barriers count 128 MMA threads.
// D = 96 is three 32-column chunks with the 64-byte swizzle, so each box
// is 32 columns wide.
// CHECK-LABEL: gpu.module @tma_four_warps
// CHECK: gpu.func @tma_four_warps
// CHECK-SAME: k_tma = {box_cols = 32 : i64, box_rows = 64 : i64, swizzle = 64 : i64, tensor = "k"}
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>, nvvm.maxnreg = 255 : i32
// CHECK: fa4.barrier_init %{{.*}} arrivals(128)
// CHECK: fa4.warp_specialize consumer_warps(4) producer {
// CHECK: fa4.qk_mma %{{.*}}, %{{.*}} : !fa4.smem<64x96xf16>, !fa4.smem<64x96xf16> -> !fa4.acc<64x64xf32, warps = 4>
fa4.attention @tma_four_warps dtype(f16) head_dim(96) head_dim_v(96) gqa lse
    load_path(tma) stages(2) tile(64, 64) warps(4) q_in_registers(false)

// RUN: fa4-opt %s --split-input-file --fa4-tile-attention --mlir-use-nameloc-as-prefix | FileCheck %s
// RUN: fa4-opt %s --split-input-file --fa4-tile-attention="chip=sm_90" | FileCheck %s --check-prefix=SM90

// The tiling pass builds prologue, range, loop and epilogue; the loads are
// the schedule's (fa4-schedule-kv-loop.mlir). The kernel ABI comes from one
// table with a predicate per parameter; its names become fa4.abi (and name
// the arguments), the features, configuration and launch rules become
// fa4.features, fa4.config, fa4.grid and fa4.workspace.
// CHECK-LABEL: gpu.module @dense [#nvvm.target<O = 3, chip = "sm_120a", features = "+ptx87">]
// CHECK: gpu.func @dense(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %o: !llvm.ptr<1>, %lse: !llvm.ptr<1>, %seqlen_q: i32, %seqlen_k: i32, %head_ratio: i32, %q_batch_stride: i64, %q_head_stride: i64, %q_row_stride: i32,
// CHECK-SAME: %softmax_scale: f32) kernel
// CHECK-SAME: fa4.abi = ["q", "k", "v", "o", "lse", "seqlen_q", "seqlen_k", "head_ratio", "q_batch_stride", "q_head_stride", "q_row_stride", "k_batch_stride", "k_head_stride", "k_row_stride", "v_batch_stride", "v_head_stride", "v_row_stride", "o_batch_stride", "o_head_stride", "o_row_stride", "lse_batch_stride", "lse_head_stride", "softmax_scale"]
// CHECK-SAME: fa4.config = {num_stages = 1 : i64, num_warps = 8 : i64, q_in_registers = true, tile_m = 128 : i64, tile_n = 128 : i64}
// CHECK-SAME: fa4.features = {alibi = false, block_sparse = false, causal = false, dropout = false, dtype = bf16, head_dim = 128 : i64, head_dim_v = 128 : i64, kernel = "attention", kv_cache = false, load_path = "cp_async", paged_kv = false, return_probs = false, sink = false, softcap = false, split_kv = false, varlen = false, window = false}
// CHECK-SAME: fa4.grid = ["cdiv(seqlen_q, 128)", "nheads_q", "batch"], fa4.workspace = "0"
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
// SM90: gpu.module @dense [#nvvm.target<O = 3, chip = "sm_90", features = "+ptx87">]
// The block program lives in one scope that owns its buffers.
// CHECK: fa4.scope "dense" {
// CHECK: %m_block = arith.index_castui
// CHECK: %head = arith.index_castui
// CHECK: %batch = arith.index_castui
// GQA: the key/value head is the query head divided by the ratio.
// CHECK: %kv_head = arith.divui %head, %head_ratio
// CHECK: %q_base = llvm.getelementptr %q[
// CHECK: %k_base = llvm.getelementptr %k[
// CHECK: %v_base = llvm.getelementptr %v[
// CHECK: %o_base = llvm.getelementptr %o[
// CHECK: %q_row = arith.muli %m_block
// ---- Range ----
// CHECK: %begin, %full_begin, %full_end, %end = fa4.kv_range none rows(%q_row, 128) seqlen(%seqlen_q, %seqlen_k) block(128)
// CHECK: %[[SQ:.*]] = fa4.smem_buffer "Q" : !fa4.smem<128x128xbf16>
// CHECK: %[[O0:.*]] = fa4.splat %{{.*}} : !fa4.acc<128x128xf32, warps = 8>
// CHECK: %[[M0:.*]] = fa4.splat %{{.*}} : !fa4.rows<128, warps = 8>
// CHECK: %[[L0:.*]] = fa4.splat %{{.*}} : !fa4.rows<128, warps = 8>
// CHECK: %scale_log2 = arith.mulf %softmax_scale
// ---- Loop: the sources as kinds, the block's math once ----
// CHECK: %[[R:.*]]:3 = fa4.kv_loop[%begin, %full_begin, %full_end, %end] stages(1)
// CHECK-SAME: q %[[SQ]][%q_row] : !fa4.smem<128x128xbf16> #fa4.contiguous(%q_base, %q_row_stride, %seqlen_q : !llvm.ptr<1>, i32, i32)
// CHECK-SAME: k #fa4.contiguous(%k_base, %k_row_stride, %seqlen_k : !llvm.ptr<1>, i32, i32)
// CHECK-SAME: v #fa4.contiguous(%v_base, %v_row_stride, %seqlen_k : !llvm.ptr<1>, i32, i32)
// CHECK-SAME: init(%[[O0]], %[[M0]], %[[L0]])
// Q in registers: the body reads Q's A fragments.
// CHECK-NEXT: ^bb0(%n: i32, %[[QA:.*]]: !fa4.afrag<128x128xbf16, warps = 8>, %[[KB:.*]]: !fa4.smem<128x128xbf16>, %[[VB:.*]]: !fa4.smem<128x128xbf16>, %[[O:.*]]: !fa4.acc<128x128xf32, warps = 8>, %m: !fa4.rows<128, warps = 8>, %l: !fa4.rows<128, warps = 8>):
// CHECK:   %key_col = arith.muli %n
// CHECK:   %[[S:.*]] = fa4.qk_mma %[[QA]], %[[KB]]
// CHECK:   %[[SM:.*]] = fa4.mask %[[S]] row %q_row col %key_col limit %seqlen_k :
// CHECK:   %probs, %new_max, %new_sum, %correction = fa4.online_softmax %[[SM]], %m, %l scale %scale_log2
// CHECK:   %[[OS:.*]] = fa4.rescale %[[O]] by %correction
// CHECK:   %[[PA:.*]] = fa4.pack_a %probs : !fa4.acc<128x128xf32, warps = 8> -> !fa4.afrag<128x128xbf16, warps = 8>
// CHECK:   %[[O2:.*]] = fa4.pv_mma %[[PA]], %[[VB]], %[[OS]]
// CHECK:   fa4.yield %[[O2]], %new_max, %new_sum
// CHECK-NOT: fa4.load_tile
// ---- Epilogue ----
// CHECK: %out, %{{.*}} = fa4.finalize %[[R]]#0, %[[R]]#1, %[[R]]#2 scale %scale_log2
// CHECK: fa4.store_tile %out, %o_base[%q_row] limit %seqlen_q stride %o_row_stride {{.*}} as bf16
// The LSE store is skipped at run time when the lse pointer is null.
// CHECK: llvm.icmp "ne" %lse
// CHECK: scf.if
// CHECK:   fa4.store_rows
// CHECK: gpu.return
fa4.attention @dense dtype(bf16) head_dim(128) head_dim_v(128)
    load_path(cp_async) stages(1)

// -----

// Causal: bottom-right aligned (offset Sk - Sq), CTAs longest-first, the
// range and the mask both causal. Causal D = 128 keeps Q in shared memory.
// CHECK-LABEL: gpu.module @causal
// CHECK: fa4.features = {alibi = false, block_sparse = false, causal = true, dropout = false, dtype = f16
// CHECK: gpu.grid_dim x
// CHECK: %m_block = arith.subi
// CHECK: %causal_offset = arith.subi %seqlen_k, %seqlen_q
// CHECK: fa4.kv_range causal rows(%q_row, 128)
// CHECK: fa4.kv_loop
// CHECK-NEXT: ^bb0(%n: i32, %{{.*}}: !fa4.smem<128x128xf16>,
// CHECK: fa4.mask %{{.*}} row %q_row col %key_col limit %seqlen_k diag_max %causal_offset :
// CHECK: fa4.store_tile {{.*}} as f16
fa4.attention @causal dtype(f16) head_dim(128) head_dim_v(128) causal
    load_path(cp_async) stages(1)

// -----

// A window: its sizes are parameters, clamped to the sequence (unsigned min
// maps -1 there too), and give the mask's two diagonals; the range is the
// local kind, whose left edge adds masked blocks below the unmasked ones.
// D = 128 with 128-key tiles keeps Q in shared memory.
// CHECK-LABEL: gpu.module @window
// CHECK: %softmax_scale: f32, %window_left: i32, %window_right: i32) kernel
// CHECK-SAME: fa4.features = {alibi = false, block_sparse = false, causal = false, {{.*}}softcap = false, split_kv = false, varlen = false, window = true}
// CHECK: %causal_offset = arith.subi %seqlen_k, %seqlen_q
// CHECK: %window_left_0 = arith.minui %window_left, %seqlen_k
// CHECK: %window_right_1 = arith.minui %window_right, %seqlen_q
// CHECK: %diag_max = arith.addi %causal_offset, %window_right_1
// CHECK: %diag_min = arith.subi %causal_offset, %window_left_0
// CHECK: fa4.kv_range local window(%window_left_0, %window_right_1) rows(%q_row, 128)
// CHECK: fa4.kv_loop
// CHECK-NEXT: ^bb0(%n: i32, %{{.*}}: !fa4.smem<128x128xbf16>,
// CHECK: fa4.mask %{{.*}} row %q_row col %key_col limit %seqlen_k diag_max %diag_max diag_min %diag_min :
fa4.attention @window dtype(bf16) head_dim(128) head_dim_v(128) window
    load_path(cp_async) stages(1)

// -----

// Softcap: the cap is a parameter; the body's tanh takes scale / cap and the
// softmax scales by cap * log2(e); the softcap comes before the mask.
// CHECK-LABEL: gpu.module @softcap
// CHECK: %softmax_scale: f32, %softcap: f32) kernel
// CHECK-SAME: fa4.features = {alibi = false, block_sparse = false, causal = true, {{.*}}softcap = true, split_kv = false, varlen = false, window = false}
// CHECK: %softcap_pre = arith.divf %softmax_scale, %softcap
// CHECK: %scale_log2 = arith.mulf %softcap, %{{.*}}
// CHECK: fa4.kv_loop
// CHECK: %[[S:.*]] = fa4.qk_mma
// CHECK-NEXT: %[[C:.*]] = fa4.softcap %[[S]] scale %softcap_pre
// CHECK-NEXT: fa4.mask %[[C]] row %q_row col %key_col limit %seqlen_k diag_max %causal_offset :
// CHECK: fa4.online_softmax %{{.*}} scale %scale_log2
fa4.attention @softcap dtype(bf16) head_dim(64) head_dim_v(64) causal softcap
    load_path(cp_async) stages(1)

// -----

// ALiBi: the slopes are a parameter with a batch stride; the CTA loads its
// head's slope once, divides it by the softmax's scale (the cap with
// softcap) and negates it; the body adds the bias after the mask, with the
// bottom-right diagonal.
// CHECK-LABEL: gpu.module @alibi
// CHECK: %softmax_scale: f32, %softcap: f32, %alibi_slopes: !llvm.ptr<1>, %alibi_batch_stride: i32) kernel
// CHECK-SAME: fa4.features = {alibi = true, block_sparse = false, causal = true
// CHECK: %[[I:.*]] = arith.muli %batch, %alibi_batch_stride
// CHECK: %[[J:.*]] = arith.addi %[[I]], %head
// CHECK: %[[P:.*]] = llvm.getelementptr %alibi_slopes[%[[J]]] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
// CHECK: %alibi_slope = llvm.load %[[P]] {alignment = 4 : i64} : !llvm.ptr<1> -> f32
// CHECK: %[[D:.*]] = arith.divf %alibi_slope, %softcap
// CHECK: %alibi_scaled = arith.negf %[[D]]
// CHECK: fa4.kv_loop
// CHECK: %[[M:.*]] = fa4.mask
// CHECK-NEXT: fa4.alibi %[[M]] row %q_row col %key_col diag %causal_offset slope %alibi_scaled
fa4.attention @alibi dtype(bf16) head_dim(64) head_dim_v(64) causal softcap alibi
    load_path(cp_async) stages(1)

// -----

// Switchable: softcap 0 keeps the softmax's scale and passes the scores
// through (the op's `if`); null slopes read nothing and give slope 0. The
// features carry `switchable = true`, which only such kernels have.
// CHECK-LABEL: gpu.module @switchable
// CHECK: %window_left: i32, %window_right: i32, %softcap: f32, %alibi_slopes: !llvm.ptr<1>, %alibi_batch_stride: i32) kernel
// CHECK-SAME: softcap = true, split_kv = false, switchable = true, varlen = false, window = true}
// CHECK: %softcap_pre = arith.divf %softmax_scale, %softcap
// CHECK: %softcap_on = arith.cmpf one, %softcap, %{{.*}} : f32
// CHECK: %softcap_scale = arith.select %softcap_on, %softcap, %softmax_scale : f32
// CHECK: %scale_log2 = arith.mulf %softcap_scale, %{{.*}}
// CHECK: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr<1>
// CHECK: %alibi_on = llvm.icmp "ne" %alibi_slopes, %[[NULL]] : !llvm.ptr<1>
// CHECK: %alibi_slope = scf.if %alibi_on -> (f32) {
// CHECK: %[[L:.*]] = llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr<1> -> f32
// CHECK-NEXT: scf.yield %[[L]] : f32
// CHECK-NEXT: } else {
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: scf.yield %[[Z]] : f32
// CHECK: arith.divf %alibi_slope, %softcap_scale
// CHECK: fa4.kv_loop
// CHECK: %[[S:.*]] = fa4.qk_mma
// CHECK-NEXT: %[[C:.*]] = fa4.softcap %[[S]] scale %softcap_pre if %softcap_on
// CHECK-NEXT: %[[M:.*]] = fa4.mask %[[C]] row %q_row col %key_col limit %seqlen_k diag_max %diag_max diag_min %diag_min
// CHECK-NEXT: fa4.alibi %[[M]] row %q_row col %key_col diag %causal_offset slope %alibi_scaled
fa4.attention @switchable dtype(bf16) head_dim(64) head_dim_v(64) window softcap
    alibi switchable load_path(cp_async) stages(1)

// -----

// TMA: the sources are tensor maps, which the ABI adds as parameters and
// fa4.tensor_maps describes; 12 warps, each at most 168 registers.
// CHECK-LABEL: gpu.module @tma
// CHECK: %softmax_scale: f32, %q_tma: !llvm.ptr, %k_tma: !llvm.ptr, %v_tma: !llvm.ptr) kernel
// CHECK-SAME: fa4.features = {{{.*}}load_path = "tma"
// CHECK-SAME: fa4.tensor_maps = {k_tma = {box_cols = 64 : i64, box_rows = 64 : i64, swizzle = 128 : i64, tensor = "k"}, q_tma = {box_cols = 64 : i64, box_rows = 128 : i64, swizzle = 128 : i64, tensor = "q"}, v_tma = {box_cols = 64 : i64, box_rows = 64 : i64, swizzle = 128 : i64, tensor = "v"}}
// CHECK-SAME: known_block_size = array<i32: 384, 1, 1>, nvvm.maxnreg = 168 : i32
// CHECK: fa4.kv_loop[%begin, %full_begin, %full_end, %end] stages(2)
// CHECK-SAME: #fa4.tma(%q_tma, %head, %batch : !llvm.ptr, i32, i32)
// CHECK-SAME: k #fa4.tma(%k_tma, %kv_head, %batch : !llvm.ptr, i32, i32)
// CHECK-SAME: v #fa4.tma(%v_tma, %kv_head, %batch : !llvm.ptr, i32, i32)
fa4.attention @tma dtype(bf16) head_dim(128) head_dim_v(128) causal
    load_path(tma) stages(2)

// -----

// Varlen: no batch strides; cu_seqlens give each sequence's rows, which
// fa4.varlen_seqlens reads. The grid is FlashAttention-2's (from
// max_seqlen_q); CTA x runs m-block x if its sequence has one, and the last
// CTA marks rows no CTA covers (max_seqlen_q too small) with NaN.
// CHECK-LABEL: gpu.module @varlen
// CHECK: gpu.func @varlen(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %o: !llvm.ptr<1>, %lse: !llvm.ptr<1>, %cu_seqlens_q: !llvm.ptr<1>, %cu_seqlens_k: !llvm.ptr<1>, %seqused_k: !llvm.ptr<1>, %total_q: i32, %total_k: i32, %head_ratio: i32, %q_head_stride: i64, %q_row_stride: i32, %k_head_stride: i64, %k_row_stride: i32, %v_head_stride: i64, %v_row_stride: i32, %o_head_stride: i64, %o_row_stride: i32, %lse_head_stride: i64, %softmax_scale: f32) kernel
// CHECK-SAME: fa4.features = {alibi = false, block_sparse = false, causal = true, {{.*}}paged_kv = false, return_probs = false, sink = false, softcap = false, split_kv = false, varlen = true, window = false}
// CHECK-SAME: fa4.grid = ["max(cdiv(max_seqlen_q, 128), 1)", "nheads_q", "batch"]
// CHECK: fa4.scope "varlen"
// CHECK: %q_start, %seqlen_q, %k_start, %seqlen_k = fa4.varlen_seqlens %batch cu_seqlens(%cu_seqlens_q, %cu_seqlens_k) seqused_k(%seqused_k) totals(%total_q, %total_k)
// CHECK: %q_base = llvm.getelementptr %q[
// CHECK: %m_blocks = arith.ceildivsi %seqlen_q
// CHECK: scf.if
// CHECK:   fa4.fill_nan %{{.*}}[%{{.*}} to %seqlen_q] stride %o_row_stride cols(128) as bf16
// CHECK:   fa4.fill_nan %{{.*}}[%{{.*}} to %seqlen_q] stride %{{.*}} cols(1) as f32
// CHECK: %[[VALID:.*]] = arith.cmpi slt, %{{.*}}, %m_blocks
// CHECK: scf.if %[[VALID]]
// Causal: the CTA's m-block counts from the last one the grid covers,
// min(m_blocks, gridDim.x) - 1 (the rows past the grid are the NaN ones).
// CHECK:   %[[COVERED:.*]] = arith.minsi %m_blocks, %{{.*}} : i32
// CHECK:   arith.subi %[[COVERED]]
// CHECK:   fa4.kv_range causal
// CHECK:   fa4.kv_loop
// CHECK-SAME: #fa4.contiguous(%q_base, %q_row_stride, %seqlen_q
// CHECK-SAME: k #fa4.contiguous(%k_base, %k_row_stride, %seqlen_k
fa4.attention @varlen dtype(bf16) head_dim(128) head_dim_v(128) causal varlen
    load_path(cp_async) stages(1)

// -----

// Paged K/V: the page table and geometry are parameters, the key count is
// clamped to the table's capacity, and K/V come from #fa4.paged.
// CHECK-LABEL: gpu.module @paged
// CHECK: %seqused_k: !llvm.ptr<1>, %total_q: i32, %head_ratio: i32,
// CHECK-SAME: %k_page_stride: i64, %v_page_stride: i64, %block_table: !llvm.ptr<1>, %block_table_stride: i32, %page_size: i32, %page_magic: i32, %page_shift: i32, %max_pages: i32, %num_pages: i32,
// CHECK-SAME: fa4.config = {num_stages = 2 : i64, num_warps = 4 : i64, q_in_registers = false, tile_m = 128 : i64, tile_n = 64 : i64}
// CHECK-SAME: paged_kv = true, return_probs = false, sink = false, softcap = false, split_kv = false, varlen = true, window = false
// CHECK: fa4.scope "paged"
// CHECK: fa4.varlen_seqlens
// CHECK: %[[CAP:.*]] = arith.muli %max_pages, %page_size
// CHECK: %[[SK:.*]] = arith.minsi %seqlen_k, %[[CAP]]
// CHECK: %table = llvm.getelementptr %block_table[
// CHECK: fa4.kv_loop
// CHECK-SAME: k #fa4.paged(%k_base, %k_row_stride, %[[SK]], %table, %page_size, %page_magic, %page_shift, %k_page_stride, %num_pages : !llvm.ptr<1>, i32, i32, !llvm.ptr<1>, i32, i32, i32, i64, i32)
// CHECK-SAME: v #fa4.paged(%v_base, %v_row_stride, %[[SK]], %table, %page_size, %page_magic, %page_shift, %v_page_stride, %num_pages
fa4.attention @paged dtype(bf16) head_dim(64) head_dim_v(64) varlen paged_kv
    load_path(cp_async) stages(2)

// -----

// D = 64 and 96, plain or causal (dense, varlen or paged): four warps of
// 32 query rows (two m16 row groups each), 64-key tiles, Q in shared
// memory. The accumulators carry two row groups per warp.
// CHECK-LABEL: gpu.module @rows32
// CHECK: gpu.func @rows32(
// CHECK-SAME: fa4.config = {num_stages = 1 : i64, num_warps = 4 : i64, q_in_registers = false, tile_m = 128 : i64, tile_n = 64 : i64}
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: fa4.kv_loop
// CHECK-NEXT: ^bb0(%n: i32, %{{.*}}: !fa4.smem<64x96xbf16>, %{{.*}}: !fa4.smem<64x96xbf16>, %{{.*}}: !fa4.acc<128x96xf32, warps = 4>,
fa4.attention @rows32 dtype(bf16) head_dim(96) head_dim_v(96) causal varlen
    load_path(cp_async) stages(1)

// -----

// D = 64 with one score modification (here causal + ALiBi), and D = 96
// with a window, take the four warps too.
// CHECK-LABEL: gpu.module @rows32_alibi
// CHECK: gpu.func @rows32_alibi(
// CHECK-SAME: num_warps = 4 : i64
fa4.attention @rows32_alibi dtype(bf16) head_dim(64) head_dim_v(64) causal alibi
    load_path(cp_async) stages(2)

// -----

// CHECK-LABEL: gpu.module @rows32_window
// CHECK: gpu.func @rows32_window(
// CHECK-SAME: num_warps = 4 : i64
fa4.attention @rows32_window dtype(bf16) head_dim(96) head_dim_v(96) window
    load_path(cp_async) stages(1)

// -----

// Block-sparse lists at D = 64 and 96 take the four warps as well (the
// same 128 x 64 tile: the sparse block sizes accepted do not change).
// CHECK-LABEL: gpu.module @rows32_sparse
// CHECK: gpu.func @rows32_sparse(
// CHECK-SAME: fa4.config = {num_stages = 1 : i64, num_warps = 4 : i64, q_in_registers = false, tile_m = 128 : i64, tile_n = 64 : i64}
fa4.attention @rows32_sparse dtype(bf16) head_dim(96) head_dim_v(96) causal
    block_sparse load_path(cp_async) stages(1)

// -----

// D = 96 with a softcap or ALiBi, two modifications (the switchable
// kernels) or dropout keep eight warps of 16 rows.
// CHECK-LABEL: gpu.module @rows16_softcap
// CHECK: gpu.func @rows16_softcap(
// CHECK-SAME: num_warps = 8 : i64
fa4.attention @rows16_softcap dtype(bf16) head_dim(96) head_dim_v(96) softcap
    load_path(cp_async) stages(1)

// -----

// CHECK-LABEL: gpu.module @rows16_switchable
// CHECK: gpu.func @rows16_switchable(
// CHECK-SAME: num_warps = 8 : i64
fa4.attention @rows16_switchable dtype(bf16) head_dim(64) head_dim_v(64) window
    softcap alibi switchable load_path(cp_async) stages(2)

// -----

// D > 128 (chooseWideHeadConfig): the widest key tile whose stages fit.
// D = 160: 64 keys, Q's fragments in registers (80 KB).
// CHECK-LABEL: gpu.module @d160
// CHECK: gpu.func @d160(
// CHECK-SAME: fa4.config = {num_stages = 1 : i64, num_warps = 8 : i64, q_in_registers = true, tile_m = 128 : i64, tile_n = 64 : i64}
// CHECK-SAME: head_dim = 160 : i64, head_dim_v = 160 : i64
fa4.attention @d160 dtype(bf16) head_dim(160) head_dim_v(160)
    load_path(cp_async) stages(1)

// -----

// DeepSeek's 192 / 128: K tiles of 192 columns, V and O of 128 (88 KB).
// CHECK-LABEL: gpu.module @d192_dv128
// CHECK: gpu.func @d192_dv128(
// CHECK-SAME: fa4.config = {num_stages = 1 : i64, num_warps = 8 : i64, q_in_registers = true, tile_m = 128 : i64, tile_n = 64 : i64}
// CHECK: fa4.kv_loop
// CHECK-NEXT: ^bb0(%n: i32, %{{.*}}: !fa4.afrag<128x192xbf16, warps = 8>, %{{.*}}: !fa4.smem<64x192xbf16>, %{{.*}}: !fa4.smem<64x128xbf16>, %{{.*}}: !fa4.acc<128x128xf32, warps = 8>,
fa4.attention @d192_dv128 dtype(bf16) head_dim(192) head_dim_v(128) causal
    load_path(cp_async) stages(1)

// -----

// A window at D = 192 keeps Q in shared memory (spill-free on sm_121a).
// CHECK-LABEL: gpu.module @d192_window
// CHECK: gpu.func @d192_window(
// CHECK-SAME: q_in_registers = false, tile_m = 128 : i64, tile_n = 64 : i64
fa4.attention @d192_window dtype(bf16) head_dim(192) head_dim_v(192) window
    varlen paged_kv load_path(cp_async) stages(1)

// -----

// Above 192: 64 rows on four warps, 32-key tiles with two stages (84 KB at
// D = 224, 96 KB at 256), Q re-read from shared memory.
// CHECK-LABEL: gpu.module @d224
// CHECK: gpu.func @d224(
// CHECK-SAME: fa4.config = {num_stages = 2 : i64, num_warps = 4 : i64, q_in_registers = false, tile_m = 64 : i64, tile_n = 32 : i64}
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
fa4.attention @d224 dtype(f16) head_dim(224) head_dim_v(224)
    load_path(cp_async) stages(2)

// -----

// CHECK-LABEL: gpu.module @d256
// CHECK: gpu.func @d256(
// CHECK-SAME: fa4.config = {num_stages = 2 : i64, num_warps = 4 : i64, q_in_registers = false, tile_m = 64 : i64, tile_n = 32 : i64}
fa4.attention @d256 dtype(bf16) head_dim(256) head_dim_v(256) causal softcap
    varlen load_path(cp_async) stages(2)

// -----

// Learnable sinks: a parameter; the CTA loads its head's logit once, in base
// 2, and fa4.finalize adds it to the denominator.
// CHECK-LABEL: gpu.module @sink
// CHECK: %softmax_scale: f32, %window_left: i32, %window_right: i32, %learnable_sink: !llvm.ptr<1>) kernel
// CHECK-SAME: sink = true
// CHECK: fa4.kv_loop
// CHECK: %[[P:.*]] = llvm.getelementptr %learnable_sink[%head]
// CHECK: %[[L:.*]] = llvm.load %[[P]] {alignment = 4 : i64} : !llvm.ptr<1> -> f32
// CHECK: %sink_log2 = arith.mulf %[[L]], %{{.*}} : f32
// CHECK: fa4.finalize %{{.*}}, %{{.*}}, %{{.*}} scale %scale_log2 sink %sink_log2
fa4.attention @sink dtype(bf16) head_dim(64) head_dim_v(64) window sink
    load_path(cp_async) stages(2)

// -----

// KV cache with split-KV (decode): dense Q; the keys of batch entry b come
// from cache entry cache_batch_idx[b] from row cache_leftpad[b], with
// cache_seqlens[b] + seqlen_new of them (fa4.cache_seqlens). 64-row tiles on
// four warps. The grid's z is batch * num_splits; the range op takes the
// split. The epilogue writes O and the LSE when there is one split, else
// this split's fp32 partials, and the module holds the combine kernel.
// CHECK-LABEL: gpu.module @kvcache
// CHECK: gpu.func @kvcache(%q: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %o: !llvm.ptr<1>, %lse: !llvm.ptr<1>, %o_partial: !llvm.ptr<1>, %lse_partial: !llvm.ptr<1>, %num_splits: i32, %seqlen_q: i32, %seqlen_k: i32, %cache_seqlens: !llvm.ptr<1>, %seqlen_new: i32, %cache_batch_idx: !llvm.ptr<1>, %cache_leftpad: !llvm.ptr<1>, %cache_entries: i32, %cache_capacity: i32, %q_group: i32, %head_ratio: i32,
// CHECK-SAME: fa4.config = {num_stages = 2 : i64, num_warps = 4 : i64, q_in_registers = true, tile_m = 64 : i64, tile_n = 64 : i64}
// CHECK-SAME: kv_cache = true
// CHECK-SAME: split_kv = true
// CHECK-SAME: fa4.grid = ["cdiv(seqlen_q, 64)", "nheads_q", "batch * num_splits"], fa4.workspace = "split_partials * batch * seqlen_q * nheads_q * 516"
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>, nvvm.maxnreg = 255 : i32
// The combine may start once every CTA of this grid has.
// CHECK-NEXT: nvvm.griddepcontrol launch_dependents
// CHECK: fa4.scope "cache" {
// CHECK: %[[Z:.*]] = arith.index_castui %block_id_z : index to i32
// CHECK: %batch = arith.divui %[[Z]], %num_splits : i32
// CHECK: %split = arith.remui %[[Z]], %num_splits : i32
// CHECK: %entry, %k_start, %[[SK:.*]] = fa4.cache_seqlens %batch seqlens(%cache_seqlens, %seqlen_k) new(%seqlen_new) batch_idx(%cache_batch_idx) leftpad(%cache_leftpad) entries(%cache_entries) capacity(%cache_capacity)
// GQA packing: the CTA's q_group query heads as rows s * g + j.
// CHECK: %q_rows = arith.muli %seqlen_q, %q_group : i32
// CHECK: %first_head = arith.muli %head, %q_group : i32
// CHECK: %q_base = llvm.getelementptr %q[
// The entry's first key row: entry * batch stride + head, then k_start rows.
// CHECK: arith.extui %entry
// CHECK: arith.extui %k_start
// CHECK: %k_base = llvm.getelementptr
// The range in queries.
// CHECK: %first_query = arith.divui %q_row, %q_group : i32
// CHECK: fa4.kv_range none rows(%first_query, 64) seqlen(%seqlen_q, %[[SK]]) block(64) split(%split of %num_splits)
// CHECK: %[[R:.*]]:3 = fa4.kv_loop
// CHECK-SAME: #fa4.grouped(%q_base, %q_row_stride, %q_rows, %q_group, %q_head_stride : !llvm.ptr<1>, i32, i32, i32, i64)
// CHECK: fa4.mask %{{.*}} row %q_row col %key_col limit %[[SK]] group %q_group
// CHECK: %out, %[[LSE:.*]] = fa4.finalize %[[R]]#0, %[[R]]#1, %[[R]]#2 scale %scale_log2
// CHECK: %[[MANY:.*]] = arith.cmpi sgt, %num_splits, %{{.*}} : i32
// CHECK: scf.if %[[MANY]] {
// CHECK: %o_partial_base = llvm.getelementptr %o_partial[%{{.*}}] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, f32
// CHECK: fa4.store_tile %out, %o_partial_base[%q_row] limit %q_rows stride %{{.*}} : !fa4.acc<64x128xf32, warps = 4> as f32
// CHECK: %lse_partial_base = llvm.getelementptr %lse_partial[
// CHECK: fa4.store_rows %[[LSE]], %lse_partial_base[%q_row] limit %q_rows
// CHECK: } else {
// CHECK: fa4.store_tile %out, %o_base[%q_row] limit %q_rows stride %o_row_stride group(%q_group, %o_head_stride) : !fa4.acc<64x128xf32, warps = 4> as bf16
// CHECK: fa4.store_rows %[[LSE]], %{{.*}}[%q_row] limit %q_rows group(%q_group, %lse_head_stride)
// The combine kernel: one thread per 4 columns of an output row. It waits
// for the attention grid before it reads (programmatic_wait: the runtime
// may launch it early).
// CHECK: gpu.func @kvcache_combine(%o_partial: !llvm.ptr<1>, %lse_partial: !llvm.ptr<1>, %o: !llvm.ptr<1>, %lse: !llvm.ptr<1>, %num_splits: i32, %batch: i32, %seqlen_q: i32, %nheads_q: i32, %q_group: i32, %o_batch_stride: i64, %o_head_stride: i64, %o_row_stride: i32, %lse_batch_stride: i64, %lse_head_stride: i64) kernel
// CHECK-SAME: fa4.config = {columns_per_thread = 4 : i64, programmatic_wait = true}
// CHECK-SAME: fa4.features = {dtype = bf16, head_dim_v = 128 : i64, kernel = "combine"}
// CHECK-SAME: fa4.grid = ["cdiv(batch * seqlen_q * nheads_q * 32, 128)", "1", "1"], fa4.workspace = "0"
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK-NEXT: nvvm.griddepcontrol wait
// CHECK-NOT: llvm.load
// CHECK: %[[O:.*]], %[[L:.*]] = fa4.merge_splits %{{.*}}, %{{.*}} splits(%num_splits) strides(%{{.*}}, %{{.*}}) : vector<4xf32>
// CHECK: %[[B:.*]] = arith.truncf %[[O]] : vector<4xf32> to vector<4xbf16>
// CHECK: llvm.store %[[B]], %{{.*}} {alignment = 8 : i64} : vector<4xbf16>, !llvm.ptr<1>
// CHECK: llvm.store %[[L]], %{{.*}} {alignment = 4 : i64} : f32, !llvm.ptr<1>
fa4.attention @kvcache dtype(bf16) head_dim(128) head_dim_v(128) kv_cache split_kv
    load_path(cp_async) stages(2)

// -----

// A paged cache: pages from the batch entry's block-table row, no entry
// index or left padding (null pointers the lowering folds away); the
// capacity is the table's.
// CHECK-LABEL: gpu.module @kvcache_paged
// CHECK: %lse_partial: !llvm.ptr<1>, %num_splits: i32, %seqlen_q: i32, %seqlen_k: i32, %cache_seqlens: !llvm.ptr<1>, %seqlen_new: i32, %q_group: i32, %head_ratio: i32,
// CHECK-SAME: %block_table: !llvm.ptr<1>
// CHECK: fa4.scope "paged_cache" {
// CHECK: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr<1>
// CHECK: %[[NULL2:.*]] = llvm.mlir.zero : !llvm.ptr<1>
// CHECK: %capacity = arith.muli %max_pages, %page_size : i32
// CHECK: %entry, %k_start, %[[SK:.*]] = fa4.cache_seqlens %batch seqlens(%cache_seqlens, %seqlen_k) new(%seqlen_new) batch_idx(%[[NULL]]) leftpad(%[[NULL2]]) entries(%{{.*}}) capacity(%capacity)
// CHECK: %table = llvm.getelementptr %block_table[
// CHECK: fa4.kv_range causal rows(%first_query, 64) seqlen(%seqlen_q, %[[SK]]) block(64) split(%split of %num_splits)
// CHECK: k #fa4.paged(
// CHECK: gpu.func @kvcache_paged_combine
fa4.attention @kvcache_paged dtype(f16) head_dim(64) head_dim_v(64) causal paged_kv kv_cache
    split_kv load_path(cp_async) stages(2)

// -----

// The KV-cache append kernel: grid (x, 3), region y = 0 new keys, 1 new
// values, 2 rotated queries; a thread handles one column pair of one token.
// A key is written at row cache_seqlens[b] + t of its page (or entry), when
// it fits the cache; a pair below rotary_dim / 2 is rotated by the
// position's cos/sin row.
// CHECK-LABEL: gpu.module @append
// CHECK: gpu.func @append(%q: !llvm.ptr<1>, %q_rot: !llvm.ptr<1>, %k_new: !llvm.ptr<1>, %v_new: !llvm.ptr<1>, %k: !llvm.ptr<1>, %v: !llvm.ptr<1>, %rotary_cos: !llvm.ptr<1>, %rotary_sin: !llvm.ptr<1>, %cache_seqlens: !llvm.ptr<1>, %seqlen_k: i32, %block_table: !llvm.ptr<1>,
// CHECK-SAME: fa4.features = {dtype = f16, kernel = "append", paged_kv = true}, fa4.grid = ["cdiv(append_units, 128)", "3", "1"], fa4.workspace = "0"
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: %[[REGION:.*]] = arith.index_castui %block_id_y
// CHECK: %[[KEYS:.*]] = arith.cmpi eq, %[[REGION]], %{{.*}} : i32
// CHECK: scf.if %[[KEYS]] {
// CHECK: %pair = arith.remui
// CHECK: %batch_{{[0-9]+}} = arith.divui
// CHECK: %position = arith.addi %{{.*}}, %row : i32
// CHECK: %col1 = arith.select
// CHECK: %col2 = arith.select
// CHECK: scf.if %{{.*}} -> (f32, f32) {
// CHECK: llvm.getelementptr %rotary_cos[
// CHECK: llvm.getelementptr %rotary_sin[
// CHECK: arith.subf
// CHECK: arith.addf
// CHECK: %[[FITS:.*]] = arith.andi
// CHECK: scf.if %[[FITS]] {
// CHECK: llvm.getelementptr %block_table[
// CHECK: llvm.store %{{.*}} {alignment = 2 : i64} : f16, !llvm.ptr<1>
// CHECK: llvm.store %{{.*}} {alignment = 2 : i64} : f16, !llvm.ptr<1>
// Queries: written to q_rot, (batch, seqlen_q, nheads_q, head_dim).
// CHECK: llvm.getelementptr %q_rot[
fa4.kv_append @append dtype(f16) paged_kv

// -----

// Dropout: seven run-time parameters (the Philox key, the 64-bit counter
// offset, the keep threshold, 1 / (1 - p), and a device pointer whose word
// is added to the offset: CUDA graph capture; when it is null a zero word
// of the module is read instead, branch-free); the word is made uniform
// with redux.sync; the stream of this (batch, head) is offset + batch *
// nheads_q + head in 64 bits, computed once; in the body the probabilities
// are dropped after the online softmax (whose row sums stay those before
// dropout) and before they are packed for P V. The keep bits are drawn next
// to their use, keyed by the seed parameters, and the epilogue applies
// 1 / (1 - p) once.
// CHECK-LABEL: gpu.module @drop
// CHECK: llvm.mlir.global internal @fa4_zero_dropout_offset(0 : i64) {addr_space = 1 : i32, alignment = 8 : i64} : i64
// CHECK: %softmax_scale: f32, %dropout_seed_lo: i32, %dropout_seed_hi: i32, %dropout_offset_lo: i32, %dropout_offset_hi: i32, %dropout_keep: i32, %dropout_scale: f32, %dropout_offset_ptr: !llvm.ptr<1>) kernel
// CHECK-SAME: causal = true, dropout = true
// CHECK: %[[ZERO:.*]] = llvm.mlir.addressof @fa4_zero_dropout_offset : !llvm.ptr<1>
// CHECK: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr<1>
// CHECK: %offset_from_memory = llvm.icmp "ne" %dropout_offset_ptr, %[[NULL]] : !llvm.ptr<1>
// CHECK: %[[ADDR:.*]] = llvm.select %offset_from_memory, %dropout_offset_ptr, %[[ZERO]] : i1, !llvm.ptr<1>
// CHECK: %[[HELD:.*]] = llvm.load %[[ADDR]] {alignment = 8 : i64} : !llvm.ptr<1> -> i64
// CHECK: %[[HLO:.*]] = arith.trunci %[[HELD]] : i64 to i32
// CHECK: nvvm.redux.sync  umin %[[HLO]], %c-1_i32 : i32 -> i32
// CHECK: nvvm.redux.sync  umin
// CHECK: %[[HI:.*]] = arith.extui %dropout_offset_hi : i32 to i64
// CHECK: %[[LO:.*]] = arith.extui %dropout_offset_lo : i32 to i64
// CHECK: %[[SH:.*]] = arith.shli %[[HI]], %{{.*}} : i64
// CHECK: %[[OFF:.*]] = arith.ori %[[SH]], %[[LO]] : i64
// CHECK: %dropout_offset = arith.addi %[[OFF]], %{{.*}} : i64
// CHECK: %[[BH:.*]] = arith.muli %batch, %{{.*}} : i32
// CHECK: %[[IDX:.*]] = arith.addi %[[BH]], %head : i32
// CHECK: %[[IDX64:.*]] = arith.extui %[[IDX]] : i32 to i64
// CHECK: %[[S:.*]] = arith.addi %dropout_offset, %[[IDX64]] : i64
// CHECK: %stream_lo = arith.trunci %[[S]] : i64 to i32
// CHECK: %stream_hi = arith.trunci %{{.*}} : i64 to i32
// CHECK: fa4.kv_loop
// CHECK: %probs, %new_max, %new_sum, %correction = fa4.online_softmax
// CHECK-NEXT: %[[BITS:.*]] = fa4.dropout_mask row %q_row col %key_col seed(%dropout_seed_lo, %dropout_seed_hi) stream(%stream_lo, %stream_hi) keep %dropout_keep : !fa4.acc<64x128xf32, warps = 4> -> vector<2xi32>
// CHECK-NEXT: %[[D:.*]] = fa4.dropout %probs bits %[[BITS]] : !fa4.acc<64x128xf32, warps = 4>, vector<2xi32>
// CHECK: fa4.pack_a %[[D]]
// CHECK: fa4.yield %{{.*}}, %new_max, %new_sum
// CHECK: fa4.finalize %{{.*}}, %{{.*}}, %{{.*}} scale %scale_log2 out_scale %dropout_scale
fa4.attention @drop dtype(bf16) head_dim(64) head_dim_v(64) causal dropout
    load_path(cp_async) stages(1)

// -----

// S_dmask (return_probs): four more parameters; this (batch, head)'s matrix
// base in the prologue; in the body, the probabilities as computed (before
// dropout zeroes them) with the dropped ones negated, stored to columns
// [key_col, key_col + 128) (64 x 128 tiles at D = 64 with dropout) of rows from q_row, rows past seqlen_q skipped.
// CHECK-LABEL: gpu.module @drop_probs
// CHECK: %dropout_scale: f32, %dropout_offset_ptr: !llvm.ptr<1>, %probs: !llvm.ptr<1>, %probs_batch_stride: i64, %probs_head_stride: i64, %probs_row_stride: i32) kernel
// CHECK-SAME: return_probs = true
// CHECK: %probs_base = llvm.getelementptr %probs[%{{.*}}] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, bf16
// S_dmask's entries are relative to the running max in FlashAttention-2's
// order, so the loop asks for it.
// CHECK: fa4.kv_loop[{{.*}}] stages(1) descending q
// CHECK: %[[P:.*]], %new_max, %new_sum, %correction = fa4.online_softmax
// CHECK-NEXT: %[[BITS:.*]] = fa4.dropout_mask
// CHECK-NEXT: %[[ENC:.*]] = fa4.dropout %[[P]] bits %[[BITS]] negated
// CHECK-NEXT: %[[COLS:.*]] = llvm.getelementptr %probs_base[%key_col] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, bf16
// CHECK-NEXT: fa4.store_tile %[[ENC]], %[[COLS]][%q_row] limit %seqlen_q stride %probs_row_stride : !fa4.acc<64x128xf32, warps = 4> as bf16
// CHECK-NEXT: %[[D:.*]] = fa4.dropout %[[P]] bits %[[BITS]] :
// CHECK: fa4.pack_a %[[D]]
fa4.attention @drop_probs dtype(bf16) head_dim(64) head_dim_v(64) dropout
    return_probs load_path(cp_async) stages(1)

// -----

// Varlen S_dmask: two more parameters, probs_rows and probs_cols
// (max_seqlen_q and max_seqlen_k rounded up to 128); rows at or past
// probs_rows and key blocks at or past probs_cols are not stored, so a
// sequence longer than the caller's max_seqlen_q / max_seqlen_k writes
// nothing outside S_dmask. Batch entry b is sequence b.
// CHECK-LABEL: gpu.module @varlen_drop_probs
// CHECK: %probs_row_stride: i32, %probs_rows: i32, %probs_cols: i32) kernel
// CHECK: %probs_base = llvm.getelementptr %probs
// CHECK: fa4.kv_loop
// CHECK: %[[ENC:.*]] = fa4.dropout %{{.*}} bits %{{.*}} negated
// CHECK-NEXT: %[[COLS:.*]] = llvm.getelementptr %probs_base[%key_col]
// CHECK-NEXT: %[[IN:.*]] = arith.cmpi slt, %key_col, %probs_cols : i32
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK-NEXT: %[[MIN:.*]] = arith.minsi %seqlen_q, %probs_rows : i32
// CHECK-NEXT: %[[ROWS:.*]] = arith.select %[[IN]], %[[MIN]], %[[ZERO]] : i32
// CHECK-NEXT: fa4.store_tile %[[ENC]], %[[COLS]][%q_row] limit %[[ROWS]] stride %probs_row_stride
fa4.attention @varlen_drop_probs dtype(bf16) head_dim(64) head_dim_v(64) varlen dropout
    return_probs load_path(cp_async) stages(1)

// -----

// Block-sparse: ten more parameters; the lists of this (batch, head %
// heads, q-block) row, their counts clamped to [0, capacity] (and to 0 past
// the tensors' q-blocks); the range only bounds the keys (no causal edge:
// the lists say which blocks are visited); the loop iterates the lists.
// The body is the causal kernel's: its mask keeps the diagonal, which the
// schedule drops for full-list blocks.
// CHECK-LABEL: gpu.module @sparse
// CHECK: %softmax_scale: f32, %mask_block_cnt: !llvm.ptr<1>, %mask_block_idx: !llvm.ptr<1>, %full_block_cnt: !llvm.ptr<1>, %full_block_idx: !llvm.ptr<1>, %sparse_heads: i32, %sparse_m_blocks: i32, %mask_block_capacity: i32, %full_block_capacity: i32, %sparse_block_rows: i32, %sparse_block_tiles: i32) kernel
// CHECK-SAME: block_sparse = true, causal = true
// CHECK: fa4.kv_range none rows(%q_row, 128) seqlen(%seqlen_q, %seqlen_k) block(128)
// CHECK-NEXT: %sparse_q_block = arith.divui %q_row, %sparse_block_rows : i32
// CHECK-NEXT: %[[IN:.*]] = arith.cmpi ult, %sparse_q_block, %sparse_m_blocks : i32
// CHECK: %[[HEAD:.*]] = arith.remui %head, %sparse_heads : i32
// CHECK: %sparse_row = arith.addi
// CHECK-NEXT: %[[CNT:.*]] = llvm.getelementptr %mask_block_cnt[%sparse_row]
// CHECK-NEXT: %[[RAW:.*]] = llvm.load %[[CNT]]
// CHECK-NEXT: %[[MIN:.*]] = arith.minsi %[[RAW]], %mask_block_capacity : i32
// CHECK-NEXT: %[[MAX:.*]] = arith.maxsi %[[MIN]], %{{.*}} : i32
// CHECK-NEXT: %mask_count = arith.select %[[IN]], %[[MAX]], %{{.*}} : i32
// CHECK: %mask_list = llvm.getelementptr %mask_block_idx[
// CHECK: %full_count = arith.select %[[IN]]
// CHECK: %full_list = llvm.getelementptr %full_block_idx[
// CHECK: fa4.kv_loop[%begin, %full_begin, %full_end, %end] lists(%mask_list[%mask_count], %full_list[%full_count]) per(%sparse_block_tiles) stages(1)
// CHECK: fa4.mask %{{.*}} row %q_row col %key_col limit %seqlen_k diag_max %causal_offset
fa4.attention @sparse dtype(bf16) head_dim(128) head_dim_v(128) causal block_sparse
    load_path(cp_async) stages(1)

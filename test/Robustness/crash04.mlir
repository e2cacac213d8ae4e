// RUN: rm -rf %t && mkdir -p %t && not fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t" -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer crash04 of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): An llvm.getelementptr whose element type
// is an fa4 type passed MLIR's verifier and crashed LLVM translation; emission
// now checks every type is one LLVM IR can express.
// (#nvvm.target added so that the input reaches the code that failed.)
// CHECK: error: 'llvm.getelementptr' op uses type '!fa4.afrag<128x64xbf16, warps = 8>', which LLVM IR cannot express

module {
  gpu.module @fa4_fwd_bf16_hd96 [#nvvm.target<chip = "sm_120a">] {
    gpu.func @fa4_fwd_bf16_hd96(%arg0: !llvm.ptr<1>, %arg1: !llvm.ptr<1>, %arg2: !llvm.ptr<1>, %arg3: !llvm.ptr<1>, %arg4: !llvm.ptr<1>, %arg5: i32, %arg6: i32, %arg7: i32, %arg8: i64, %arg9: i64, %arg10: i32, %arg11: i64, %arg12: i64, %arg13: i32, %arg14: i64, %arg15: i64, %arg16: i32, %arg17: i64, %arg18: i64, %arg19: i32, %arg20: i64, %arg21: i64, %arg22: f32) kernel attributes {fa4.abi = ["q", "k", "v", "o", "lse", "seqlen_q", "seqlen_k", "head_ratio", "q_batch_stride", "q_head_stride", "q_row_stride", "k_batch_stride", "k_head_stride", "k_row_stride", "v_batch_stride", "v_head_stride", "v_row_stride", "o_batch_stride", "o_head_stride", "o_row_stride", "lse_batch_stride", "lse_head_stride", "softmax_scale"], fa4.features = {block_sparse = false, causal = false, dropout = false, dtype = bf16, gqa = true, head_dim = 96 : i64, head_dim_v = 96 : i64, load_path = "cp_async", lse = true, num_stages = 1 : i64, num_warps = 8 : i64, paged_kv = false, q_in_registers = true, split_kv = false, target = "sm_120a", tile_m = 128 : i64, tile_n = 128 : i64, varlen = false}, known_block_size = array<i32: 256, 1, 1>} {
      fa4.scope "dense" {
        %block_id_x = gpu.block_id  x
        %0 = arith.index_castui %block_id_x : index to i32
        %block_id_y = gpu.block_id  y
        %1 = arith.index_castui %block_id_y : index to i32
        %block_id_z = gpu.block_id  z
        %2 = arith.index_castui %block_id_z : index to i32
        %3 = arith.divui %1, %arg7 : i32
        %4 = arith.extui %2 : i32 to i64
        %5 = arith.extui %1 : i32 to i64
        %6 = arith.muli %4, %arg8 : i64
        %7 = arith.muli %5, %arg9 : i64
        %8 = arith.addi %6, %7 : i64
        %9 = llvm.getelementptr %arg0[%8] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, bf16
        %10 = arith.extui %2 : i32 to i64
        %11 = arith.extui %3 : i32 to i64
        %12 = arith.muli %10, %arg11 : i64
        %13 = arith.muli %11, %arg12 : i64
        %14 = arith.addi %12, %13 : i64
        %15 = llvm.getelementptr %arg1[%14] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, bf16
        %16 = arith.extui %2 : i32 to i64
        %17 = arith.extui %3 : i32 to i64
        %18 = arith.muli %16, %arg14 : i64
        %19 = arith.muli %17, %arg15 : i64
        %20 = arith.addi %18, %19 : i64
        %21 = llvm.getelementptr %arg2[%20] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !fa4.afrag<128x64xbf16, warps = 8>
        %22 = arith.extui %2 : i32 to i64
        %23 = arith.extui %1 : i32 to i64
        %24 = arith.muli %22, %arg17 : i64
        %25 = arith.muli %23, %arg18 : i64
        %26 = arith.addi %24, %25 : i64
        %27 = llvm.getelementptr %arg3[%26] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, bf16
        %c128_i32 = arith.constant 128 : i32
        %28 = arith.muli %0, %c128_i32 : i32
        %29 = arith.subi %arg6, %arg5 : i32
        %c128_i32_0 = arith.constant 128 : i32
        %30 = arith.ceildivsi %arg6, %c128_i32_0 : i32
        %c0_i32 = arith.constant 0 : i32
        %c128_i32_1 = arith.constant 128 : i32
        %31 = arith.remsi %arg6, %c128_i32_1 : i32
        %c0_i32_2 = arith.constant 0 : i32
        %32 = arith.cmpi ne, %31, %c0_i32_2 : i32
        %c1_i32 = arith.constant 1 : i32
        %33 = arith.subi %30, %c1_i32 : i32
        %34 = arith.select %32, %33, %30 : i32
        %35 = arith.minsi %34, %30 : i32
        %36 = arith.maxsi %35, %c0_i32 : i32
        %37 = fa4.smem_buffer "Q" : !fa4.smem<128x96xbf16>
        %38 = fa4.smem_buffer "K" : !fa4.smem<128x96xbf16>
        %39 = fa4.smem_buffer "V" : !fa4.smem<128x96xbf16>
        %cst = arith.constant 0.000000e+00 : f32
        %40 = fa4.splat %cst : !fa4.acc<128x96xf32, warps = 8>
        %cst_3 = arith.constant 0xFF800000 : f32
        %41 = fa4.splat %cst_3 : !fa4.rows<128, warps = 8>
        %cst_4 = arith.constant 0.000000e+00 : f32
        %42 = fa4.splat %cst_4 : !fa4.rows<128, warps = 8>
        %cst_5 = arith.constant 1.44269502 : f32
        %43 = arith.mulf %arg22, %cst_5 : f32
        %44 = arith.cmpi sgt, %30, %c0_i32 : i32
        %45:3 = fa4.guard %44 else(%40, %41, %42 : !fa4.acc<128x96xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) {
          %c1_i32_6 = arith.constant 1 : i32
          %54 = arith.subi %30, %c1_i32_6 : i32
          %c128_i32_7 = arith.constant 128 : i32
          %56 = fa4.load_a %37 : !fa4.smem<128x96xbf16> -> !fa4.afrag<128x96xbf16, warps = 8>
          %57 = arith.subi %30, %36 : i32
          %c0_i32_8 = arith.constant 0 : i32
          %58 = arith.maxsi %57, %c0_i32_8 : i32
          %c0_i32_9 = arith.constant 0 : i32
          %c1_i32_10 = arith.constant 1 : i32
          %59:3 = scf.for %arg23 = %c0_i32_9 to %58 step %c1_i32_10 iter_args(%arg24 = %40, %arg25 = %41, %arg26 = %42) -> (!fa4.acc<128x96xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>)  : i32 {
            %c1_i32_14 = arith.constant 1 : i32
            %63 = arith.subi %30, %c1_i32_14 : i32
            %64 = arith.subi %63, %arg23 : i32
            %c128_i32_15 = arith.constant 128 : i32
            %65 = arith.muli %64, %c128_i32_15 : i32
            %66 = arith.cmpi sgt, %64, %c0_i32 : i32
            fa4.wait_loads {pending = 0 : i32}
            fa4.load_tile %21[%65] limit %arg6 stride %arg16 into %39 : !fa4.smem<128x96xbf16>
            fa4.commit_loads
            %67 = fa4.qk_mma %56, %38 : !fa4.afrag<128x96xbf16, warps = 8>, !fa4.smem<128x96xbf16> -> !fa4.acc<128x128xf32, warps = 8>
            %68 = fa4.mask %67 row %28 col %65 limit %arg6 : !fa4.acc<128x128xf32, warps = 8>
            fa4.wait_loads {pending = 0 : i32}
            scf.if %66 {
              %c128_i32_16 = arith.constant 128 : i32
              %72 = arith.subi %65, %c128_i32_16 : i32
              fa4.load_tile %15[%72] limit %arg6 stride %arg13 into %38 : !fa4.smem<128x96xbf16>
              fa4.commit_loads
            }
            %probs, %new_max, %new_sum, %correction = fa4.online_softmax %68, %arg25, %arg26 scale %43 : !fa4.acc<128x128xf32, warps = 8>, !fa4.rows<128, warps = 8>
            %69 = fa4.rescale %arg24 by %correction : !fa4.acc<128x96xf32, warps = 8>, !fa4.rows<128, warps = 8>
            %70 = fa4.pack_a %probs : !fa4.acc<128x128xf32, warps = 8> -> !fa4.afrag<128x128xbf16, warps = 8>
            %71 = fa4.pv_mma %70, %39, %69 : !fa4.afrag<128x128xbf16, warps = 8>, !fa4.smem<128x96xbf16> -> !fa4.acc<128x96xf32, warps = 8>
            scf.yield %71, %new_max, %new_sum : !fa4.acc<128x96xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
          }
          %60 = arith.subi %36, %c0_i32 : i32
          %c0_i32_11 = arith.constant 0 : i32
          %61 = arith.maxsi %60, %c0_i32_11 : i32
          %c0_i32_12 = arith.constant 0 : i32
          %c1_i32_13 = arith.constant 1 : i32
          %62:3 = scf.for %arg23 = %c0_i32_12 to %61 step %c1_i32_13 iter_args(%arg24 = %59#0, %arg25 = %59#1, %arg26 = %59#2) -> (!fa4.acc<128x96xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>)  : i32 {
            %c1_i32_14 = arith.constant 1 : i32
            %63 = arith.subi %36, %c1_i32_14 : i32
            %64 = arith.subi %63, %arg23 : i32
            %c128_i32_15 = arith.constant 128 : i32
            %65 = arith.muli %64, %c128_i32_15 : i32
            %66 = arith.cmpi sgt, %64, %c0_i32 : i32
            fa4.wait_loads {pending = 0 : i32}
            fa4.load_tile %21[%65] limit %arg6 stride %arg16 into %39 : !fa4.smem<128x96xbf16>
            fa4.commit_loads
            %67 = fa4.qk_mma %56, %38 : !fa4.afrag<128x96xbf16, warps = 8>, !fa4.smem<128x96xbf16> -> !fa4.acc<128x128xf32, warps = 8>
            fa4.wait_loads {pending = 0 : i32}
            %probs, %new_max, %new_sum, %correction = fa4.online_softmax %67, %arg25, %arg26 scale %43 : !fa4.acc<128x128xf32, warps = 8>, !fa4.rows<128, warps = 8>
            %68 = fa4.rescale %arg24 by %correction : !fa4.acc<128x96xf32, warps = 8>, !fa4.rows<128, warps = 8>
            %69 = fa4.pack_a %probs : !fa4.acc<128x128xf32, warps = 8> -> !fa4.afrag<128x128xbf16, warps = 8>
            %70 = fa4.pv_mma %69, %39, %68 : !fa4.afrag<128x128xbf16, warps = 8>, !fa4.smem<128x96xbf16> -> !fa4.acc<128x96xf32, warps = 8>
            scf.yield %70, %new_max, %new_sum : !fa4.acc<128x96xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
          }
          fa4.yield %62#0, %62#1, %62#2 : !fa4.acc<128x96xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>
        }
        %out, %lse = fa4.finalize %45#0, %45#1, %45#2 scale %43 : !fa4.acc<128x96xf32, warps = 8>, !fa4.rows<128, warps = 8>
        fa4.store_tile %out, %27[%28] limit %arg5 stride %arg19 : !fa4.acc<128x96xf32, warps = 8> as bf16
        %46 = llvm.mlir.zero : !llvm.ptr<1>
        %47 = llvm.icmp "ne" %arg4, %46 : !llvm.ptr<1>
        %48 = arith.extui %2 : i32 to i64
        %49 = arith.extui %1 : i32 to i64
        %50 = arith.muli %48, %arg20 : i64
        %51 = arith.muli %49, %arg21 : i64
        %52 = arith.addi %50, %51 : i64
        %53 = llvm.getelementptr %arg4[%52] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, f32
        scf.if %47 {
          fa4.store_rows %lse, %53[%28] limit %arg5 : !fa4.rows<128, warps = 8>
        }
      }
      gpu.return
    }
  }
}

// RUN: rm -rf %t && mkdir -p %t && not fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t" -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer crash03 of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): The same use-after-free, another mutant.
// CHECK: error: expected operation name in quotes

        %c0_i32_7 = arith.constant 0 : i32
        %45 = arith.maxsi %44, %c0_i32_7 : i32
        %62 = arith.maxsi %61, %c0_i32_11 : i32
        fa4.warp_specialize consumer_warps(8) registers(40, 232) producer {
          scf.if %63 {
            %c0_i32_13 = arith.constant 0 : i32
            %c1_i32_16 = arith.constant 1 : i32
            %64:4 = scf.for %arg26 = %c0_i32_15 to %62 step %c1_i32_16 iter_args(%arg27 = %50, %arg28 = %52, %arg29 = %51, %arg30 = %53) -> (!fa4.smem<64x64xf16>, !fa4.smem<64x64xf16>, !fa4.smem<64x64xf16>, !fa4.smem<64x64xf16>)  : i32 {
              %68 = arith.cmpi sge, %arg26, %c2_i32_18 : i32
              scf.if %68 {
                %c2_i32_20 = arith.constant 2 : i32
                %70 = arith.divui %arg26, %c2_i32_20 : i32
                %c1_i32_21 = arith.constant 1 : i32
        %44 = arith.floordivsi %43, %c64_i32_6 : i32
                %c2_i32_22 = arith.constant 2 : i32
                %72 = arith.remui %71, %c2_i32_22 : i32
                fa4.barrier_wait %59[%67] phase %72 : !fa4.mbarriers<2>
              }
              fa4.tma_load %arg25[%69, %6, %5] into %arg29, %58[%67] : !fa4.smem<64x64xf16>, !fa4.mbarriers<2>
              scf.yield %arg28, %arg27, %arg30, %arg29 : !fa4.smem<64x64xf16>, !fa4.smem<64x64xf16>, !fa4.smem<64x64xf16>, !fa4.smem<64x64xf16>
            }
          }
        } consumers {
          %63 = arith.cmpi sgt, %37, %c0_i32 : i32
          %64:3 = fa4.guard %63 else(%54, %55, %56 : !fa4.acc<128x64xf32, warps = 8>, !fa4.rows<128, warps = 8>, !fa4.rows<128, warps = 8>) {
            %c0_i32_12 = arith.constant 0 : i32
              %78 = arith.subi %37, %c1_i32_17 : i32
              %79 = arith.subi %78, %arg26 : i32
              %c2_i32 = arith.constant 2 : i32
              %80 = arith.remui %arg26, %c2_i32 : i32
              %c2_i32_18 = arith.constant 2 : i32
              %81 = arith.divui %arg26, %c2_i32_18 : i32
              %c2_i32_19 = arith.constant 2 : i32
              %82 = arith.remui %81, %c2_i32_19 : i32

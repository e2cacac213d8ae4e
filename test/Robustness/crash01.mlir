// RUN: rm -rf %t && mkdir -p %t && not fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t" -o /dev/null 2>&1 | FileCheck %s
// RUN: not fa4-opt %s --pass-pipeline='builtin.module(gpu.module(convert-fa4-to-nvvm))' -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer crash01 of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): Use-after-free when a parse error hits
// fa4.warp_specialize's consumers region after a value of the producer region
// was used by a forward reference (the ODS parser's region locals; FA4Ops.cpp,
// parseRegionAfter). Clean under valgrind and ASan.
// CHECK: error: expected operation name in quotes

              %66 = arith.subi %30, %c1_i32_11 : i32
        fa4.warp_specialize consumer_warps(8) registers(40, 232) producer {
          scf.if %51 {
            %52:4 = scf.for %arg26 = %c0_i32_9 to %50 step %c1_i32_10 iter_args(%arg27 = %38, %arg28 = %40, %arg29 = %39, %arg30 = %41) -> (!fa4.smem<64x96xf16>, !fa4.smem<64x96xf16>, !fa4.smem<64x96xf16>, !fa4.smem<64x96xf16>)  : i32 {
              %c1_i32_11 = arith.constant 1 : i32
              %c2_i32 = arith.constant 2 : i32
              %55 = arith.remui %arg26, %c2_i32 : i32
              %c2_i32_12 = arith.constant 2 : i32
              %56 = arith.cmpi sge, %arg26, %c2_i32_12 : i32
              scf.if %56 {
                %c2_i32_14 = arith.constant 2 : i32
                %58 = arith.divui %arg26, %c2_i32_14 : i32
                %c1_i32_15 = arith.constant 1 : i32
                %59 = arith.subi %58, %c1_i32_15 : i32
                %c2_i32_16 = arith.constant 2 : i32
                %60 = arith.remui %59, %c2_i32_16 : i32
                fa4.barrier_wait %47[%55] phase %60 : !fa4.mbarriers<2>
              }
              fa4.barrier_arrive_tx %46[%55] bytes(24576) : !fa4.mbarriers<2>
              %c64_i32_13 = arith.constant 64 : i32
              %57 = arith.muli %54, %c64_i32_13 : i32
              fa4.tma_load %arg24[%57, %3, %2] into %arg27, %46[%55] : !fa4.smem<64x96xf16>, !fa4.mbarriers<2>
              fa4.tma_load %arg25[%57, %3, %2] into %arg29, %46[%55] : !fa4.smem<64x96xf16>, !fa4.mbarriers<2>
              scf.yield %arg28, %arg27, %arg30, %arg29 : !fa4.smem<64x96xf16>, !fa4.smem<64x96xf16>, !fa4.smem<64x96xf16>, !fa4.smem<64x96xf16>
            }
          }
        } consumers {
            %c0_i32_7 = arith.constant 0 : i32
            fa4.barrier_wait %48[%c0_i32_6] phase %c0_i32_7 : !fa4.mbarriers<1>
            %61 = arith.subi %30, %36 : i32

// RUN: fa4-opt %s --split-input-file --fa4-emit-ptx="chip=sm_120a dump-llvm=true" -o /dev/null 2>&1 | FileCheck %s

// A kernel whose warps hold two m16 row groups (fa4.config: 128 rows on
// four warps) has its vectors scalarized after O3: the loop carries single
// floats, never <N x float> phis, which NVPTX would keep as pairs in 64-bit
// registers.
// CHECK-LABEL: define ptx_kernel void @two_row_groups(
// CHECK-NOT: phi <4 x float>
// CHECK: phi float
// CHECK-NOT: phi <4 x float>
// CHECK: ret void
gpu.module @two_row_groups {
  llvm.func @two_row_groups(%out: !llvm.ptr<1>, %n: i32, %x: f32) attributes {
      nvvm.kernel, nvvm.reqntid = array<i32: 128, 1, 1>,
      fa4.abi = ["out", "n", "x"], fa4.features = {dtype = bf16, head_dim = 64 : i64},
      fa4.config = {num_stages = 1 : i64, num_warps = 4 : i64, q_in_registers = false, tile_m = 128 : i64, tile_n = 64 : i64},
      fa4.smem_bytes = 0 : i64} {
    %zero = llvm.mlir.constant(0 : i32) : i32
    %one = llvm.mlir.constant(1 : i32) : i32
    %init = llvm.mlir.constant(dense<0.0> : vector<4xf32>) : vector<4xf32>
    %u = llvm.mlir.undef : vector<4xf32>
    %i0 = llvm.mlir.constant(0 : i32) : i32
    %xv = llvm.insertelement %x, %u[%i0 : i32] : vector<4xf32>
    %xs = llvm.shufflevector %xv, %u [0, 0, 0, 0] : vector<4xf32>
    llvm.br ^loop(%zero, %init : i32, vector<4xf32>)
  ^loop(%i: i32, %acc: vector<4xf32>):
    %next = llvm.fmul %acc, %xs : vector<4xf32>
    %sum = llvm.fadd %next, %xs : vector<4xf32>
    %j = llvm.add %i, %one : i32
    %more = llvm.icmp "slt" %j, %n : i32
    llvm.cond_br %more, ^loop(%j, %sum : i32, vector<4xf32>), ^done
  ^done:
    llvm.store %sum, %out {alignment = 16 : i64} : vector<4xf32>, !llvm.ptr<1>
    llvm.return
  }
}

// -----

// One m16 row group per warp (128 rows on eight warps): the vectors stay.
// CHECK-LABEL: define ptx_kernel void @one_row_group(
// CHECK: phi <4 x float>
// CHECK: ret void
gpu.module @one_row_group {
  llvm.func @one_row_group(%out: !llvm.ptr<1>, %n: i32, %x: f32) attributes {
      nvvm.kernel, nvvm.reqntid = array<i32: 256, 1, 1>,
      fa4.abi = ["out", "n", "x"], fa4.features = {dtype = bf16, head_dim = 64 : i64},
      fa4.config = {num_stages = 1 : i64, num_warps = 8 : i64, q_in_registers = false, tile_m = 128 : i64, tile_n = 64 : i64},
      fa4.smem_bytes = 0 : i64} {
    %zero = llvm.mlir.constant(0 : i32) : i32
    %one = llvm.mlir.constant(1 : i32) : i32
    %init = llvm.mlir.constant(dense<0.0> : vector<4xf32>) : vector<4xf32>
    %u = llvm.mlir.undef : vector<4xf32>
    %i0 = llvm.mlir.constant(0 : i32) : i32
    %xv = llvm.insertelement %x, %u[%i0 : i32] : vector<4xf32>
    %xs = llvm.shufflevector %xv, %u [0, 0, 0, 0] : vector<4xf32>
    llvm.br ^loop(%zero, %init : i32, vector<4xf32>)
  ^loop(%i: i32, %acc: vector<4xf32>):
    %next = llvm.fmul %acc, %xs : vector<4xf32>
    %sum = llvm.fadd %next, %xs : vector<4xf32>
    %j = llvm.add %i, %one : i32
    %more = llvm.icmp "slt" %j, %n : i32
    llvm.cond_br %more, ^loop(%j, %sum : i32, vector<4xf32>), ^done
  ^done:
    llvm.store %sum, %out {alignment = 16 : i64} : vector<4xf32>, !llvm.ptr<1>
    llvm.return
  }
}

// RUN: fa4-opt %s --split-input-file --fa4-emit-ptx="chip=sm_120a" | FileCheck %s

// The emission pass on its own: a kernel already in the LLVM and NVVM
// dialects becomes a gpu.binary holding its PTX and its metadata.
// CHECK-LABEL: gpu.binary @tiny
// CHECK-SAME: #gpu.object<#nvvm.target<O = 3, chip = "sm_120a", features = "+ptx87">
// CHECK-SAME: properties = {fa4.metadata =
// CHECK-SAME: \22name\22: \22tiny\22
// CHECK-SAME: \22smem_bytes\22: 0
// CHECK-SAME: \22threads\22: 128
// CHECK-SAME: assembly = "
// CHECK-SAME: .target sm_120a
// CHECK-SAME: .entry tiny(
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-NOT: gpu.module
gpu.module @tiny {
  llvm.func @tiny(%out: !llvm.ptr<1>, %a: i32, %b: i32) attributes {
      nvvm.kernel, nvvm.reqntid = array<i32: 128, 1, 1>,
      fa4.abi = ["out", "a", "b"], fa4.features = {dtype = bf16, head_dim = 64 : i64},
      fa4.smem_bytes = 0 : i64} {
    %zero = llvm.mlir.constant(0.0 : f32) : f32
    %d = nvvm.mma.sync A[%a, %a, %a, %a] B[%b, %b] C[%zero, %zero, %zero, %zero]
        {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
         multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>,
         shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
    %x = llvm.extractvalue %d[0] : !llvm.struct<(f32, f32, f32, f32)>
    llvm.store %x, %out : f32, !llvm.ptr<1>
    llvm.return
  }
}


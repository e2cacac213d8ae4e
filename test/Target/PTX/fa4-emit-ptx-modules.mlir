// RUN: fa4-opt %s --fa4-emit-ptx | FileCheck %s

// A module may hold several kernels (an attention kernel and its split-KV
// combine, say): one PTX module, metadata for each kernel, with its launch
// rules; the chip comes from the module's #nvvm.target.
// CHECK-LABEL: gpu.binary @pair
// CHECK-SAME: #nvvm.target<O = 3, chip = "sm_121a", features = "+ptx88">
// CHECK-SAME: \22grid\22: [\0A{{.*}}\22cdiv(seqlen_q, 128)\22
// CHECK-SAME: \22name\22: \22first\22
// CHECK-SAME: \22workspace_bytes\22: \22batch * 4\22
// CHECK-SAME: \22name\22: \22second\22
// CHECK-SAME: \22module\22: \22pair\22
// CHECK-SAME: \22target\22: \22sm_121a\22
// CHECK-SAME: .entry first(
// CHECK-SAME: .entry second(
gpu.module @pair [#nvvm.target<chip = "sm_121a", features = "+ptx88">] {
  llvm.func @first(%out: !llvm.ptr<1>) attributes {
      nvvm.kernel, nvvm.reqntid = array<i32: 128, 1, 1>, fa4.abi = ["out"],
      fa4.features = {kernel = "attention"}, fa4.smem_bytes = 0 : i64,
      fa4.grid = ["cdiv(seqlen_q, 128)", "nheads_q", "batch"], fa4.workspace = "batch * 4"} {
    llvm.return
  }
  llvm.func @second(%out: !llvm.ptr<1>, %n: i32) attributes {
      nvvm.kernel, nvvm.reqntid = array<i32: 64, 1, 1>, fa4.abi = ["out", "n"],
      fa4.features = {kernel = "combine"}, fa4.smem_bytes = 0 : i64,
      fa4.grid = ["batch", "1", "1"], fa4.workspace = "0"} {
    llvm.return
  }
}

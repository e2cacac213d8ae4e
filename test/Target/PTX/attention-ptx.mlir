// The PTX that fa4-to-ptx emits for a forward kernel, per instruction class,
// for each target.
//
// DEFINE: %{forbidden} = --implicit-check-not=st.shared --implicit-check-not=.local --implicit-check-not=call
// RUN: rm -rf %t && fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t/sm_120a" -o /dev/null
// RUN: FileCheck %s --input-file=%t/sm_120a/k_bf16.ptx --check-prefixes=CHECK,BF16,SM120 %{forbidden}
// RUN: FileCheck %s --input-file=%t/sm_120a/k_f16.ptx --check-prefixes=CHECK,F16,SM120 %{forbidden}
// RUN: FileCheck %s --input-file=%t/sm_120a/k_bf16.json --check-prefix=META
// RUN: fa4-opt %s --fa4-to-ptx="chip=sm_121a output-dir=%t/sm_121a" -o /dev/null
// RUN: FileCheck %s --input-file=%t/sm_121a/k_bf16.ptx --check-prefixes=CHECK,BF16,SM121 %{forbidden}
// RUN: fa4-opt %s --fa4-to-ptx="chip=sm_90 output-dir=%t/sm_90" -o /dev/null
// RUN: FileCheck %s --input-file=%t/sm_90/k_f16.ptx --check-prefixes=CHECK,F16,SM90 %{forbidden}

// SM120: .version 8.7
// SM120: .target sm_120a
// SM121: .version 8.8
// SM121: .target sm_121a
// SM90: .version 8.7
// SM90: .target sm_90
// One dynamic shared array, 1024-byte aligned for the 128-byte swizzle.
// CHECK: .extern .shared .align 1024 .b8 fa4_smem[];
// CHECK: .entry k_{{b?f16}}(
// CHECK-NEXT: .param .u64 .ptr .global .align 1 k_{{b?f16}}_param_0,
// CHECK: .param .f32 k_{{b?f16}}_param_22
// CHECK-NEXT: )
// D = 128 causal: eight warps of 16 rows; D = 64: four warps of 32 rows.
// BF16-NEXT: .reqntid 256, 1, 1
// F16-NEXT: .reqntid 128, 1, 1
//
// The instruction classes (the main loop is rotated, so no order):
// Global to shared: 16-byte cp.async.cg with a source size (zero past the
// sequence end), grouped and waited on, then a CTA barrier.
// CHECK-DAG: cp.async.cg.shared.global [%r{{[0-9]+}}{{(\+[0-9]+)?}}], [%rd{{[0-9]+}}], 16, %r{{[0-9]+}};
// CHECK-DAG: cp.async.commit_group;
// CHECK-DAG: cp.async.wait_group {{[01]}};
// CHECK-DAG: bar.sync 0;
// The swizzled layout: shared addresses are XOR-ed with the row.
// CHECK-DAG: xor.b32
// Q, K through ldmatrix, V through ldmatrix.trans; f32 accumulation.
// CHECK-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// BF16-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// F16-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// Masked tile edges: a score past the limit becomes -inf.
// CHECK-DAG: selp.f32 {{.*}}0fFF800000
// Online softmax: row max over the quad (shfl.bfly 1 and 2), exp2 in MUFU.
// CHECK-DAG: max.f32
// CHECK-DAG: shfl.sync.bfly.b32 {{.*}}, 1, 31, -1;
// CHECK-DAG: shfl.sync.bfly.b32 {{.*}}, 2, 31, -1;
// CHECK-DAG: ex2.approx.ftz.f32
// P stays in registers: packed to 16-bit pairs for the second mma.
// BF16-DAG: cvt.rn.bf16x2.f32
// F16-DAG: cvt.rn.f16x2.f32
// The epilogue: 1/l and log2 for the LSE.
// CHECK-DAG: lg2.approx.f32
// CHECK-DAG: rcp.rn.f32
// CHECK: ret;
//
// Checked over the whole file by --implicit-check-not: nothing writes shared
// memory but cp.async (P, S and O never round-trip through it), there is no
// local memory (no stack frame) and no call (no libdevice).

// The metadata (keys in alphabetical order) describes each kernel of the
// module: configuration, features, the grid rule, its parameters in
// signature order, shared memory, threads and workspace rule.
// META: "kernels": [
// META: "config": {
// META: "tile_m": 128,
// META: "features": {
// META: "causal": true,
// META: "kernel": "attention",
// META: "load_path": "cp_async",
// META: "grid": [
// META-NEXT: "cdiv(seqlen_q, 128)",
// META-NEXT: "nheads_q",
// META-NEXT: "batch"
// META: "name": "k_bf16"
// META: "params": [
// META: "name": "q"
// META-NEXT: "type": "ptr"
// META: "name": "lse"
// META-NEXT: "type": "ptr"
// META: "name": "seqlen_q"
// META-NEXT: "type": "i32"
// META: "name": "q_batch_stride"
// META-NEXT: "type": "i64"
// META: "name": "softmax_scale"
// META-NEXT: "type": "f32"
// META: "smem_bytes": 98304
// META: "threads": 256
// META: "workspace_bytes": "0"
// META: "module": "k_bf16"
// META: "target": "sm_120a"

fa4.attention @k_bf16 dtype(bf16) head_dim(128) head_dim_v(128) causal
    load_path(cp_async) stages(1)
fa4.attention @k_f16 dtype(f16) head_dim(64) head_dim_v(64)
    load_path(cp_async) stages(2)

// The PTX of the TMA warp-specialized kernel, per instruction class, for
// SM120 (with setmaxnreg) and sm_90 (without).
//
// DEFINE: %{forbidden} = --implicit-check-not=st.shared --implicit-check-not=.local --implicit-check-not=call --implicit-check-not=cp.async.cg
// RUN: rm -rf %t && fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t/sm_120a" -o /dev/null
// RUN: FileCheck %s --input-file=%t/sm_120a/tma_bf16.ptx --check-prefixes=CHECK,SETMAXNREG,SM120 %{forbidden}
// RUN: FileCheck %s --input-file=%t/sm_120a/tma_bf16.json --check-prefix=META
// RUN: fa4-opt %s --fa4-to-ptx="chip=sm_121a output-dir=%t/sm_121a" -o /dev/null
// RUN: FileCheck %s --input-file=%t/sm_121a/tma_bf16.ptx --check-prefixes=CHECK,SETMAXNREG,SM121 %{forbidden}
// RUN: fa4-opt %s --fa4-to-ptx="chip=sm_90 output-dir=%t/sm_90" -o /dev/null
// RUN: FileCheck %s --input-file=%t/sm_90/tma_bf16.ptx --check-prefixes=CHECK,SM90 %{forbidden} --implicit-check-not=setmaxnreg

// SM120: .target sm_120a
// SM121: .target sm_121a
// SM90: .target sm_90
// Tiles, then 5 mbarriers (full[2], empty[2], q_full) after them.
// CHECK: .extern .shared .align 1024 .b8 fa4_smem[];
// CHECK: .entry tma_bf16(
// CHECK: .param .f32 tma_bf16_param_22,
// The tensor maps are 128-byte, 64-aligned kernel parameters
// (byval + grid_constant), addressed directly by the TMA instruction.
// CHECK-NEXT: .param .align 64 .b8 tma_bf16_param_23[128],
// CHECK-NEXT: .param .align 64 .b8 tma_bf16_param_24[128],
// CHECK-NEXT: .param .align 64 .b8 tma_bf16_param_25[128]
// CHECK-NEXT: )
// 8 MMA warps + a producer warp group; 168 registers x 384 threads fit
// the 64K register file.
// CHECK-NEXT: .reqntid 384, 1, 1
// CHECK-NEXT: .maxnreg 168
//
// Barrier set-up: init, the init fence and the async-proxy fence.
// CHECK-DAG: mbarrier.init.shared.b64 [fa4_smem+98304], {{%r[0-9]+}};
// CHECK-DAG: mbarrier.init.shared.b64 [fa4_smem+98336], {{%r[0-9]+}};
// CHECK-DAG: fence.mbarrier_init.release.cluster;
// CHECK-DAG: fence.proxy.async.shared::cta;
// The producer group hands registers to the MMA warps (SM120 only).
// SETMAXNREG-DAG: setmaxnreg.dec.sync.aligned.u32 40;
// SETMAXNREG-DAG: setmaxnreg.inc.sync.aligned.u32 232;
// Producer: expect_tx, then CTA-only 4-D tensor copies (64-column boxes)
// completing on the stage's barrier.
// CHECK-DAG: mbarrier.arrive.expect_tx.shared.b64 %rd{{[0-9]+}}, [fa4_smem+98336], %r{{[0-9]+}};
// CHECK-DAG: cp.async.bulk.tensor.4d.shared::cta.global.tile.mbarrier::complete_tx::bytes [fa4_smem], [%rd{{[0-9]+}}, {%r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}}], [fa4_smem+98336];
// CHECK-DAG: cp.async.bulk.tensor.4d.shared::cta.global.tile.mbarrier::complete_tx::bytes [fa4_smem+16384], {{.*}}, [fa4_smem+98336];
// Waits spin on try_wait.parity; the MMA warps release a stage with arrive.
// CHECK-DAG: mbarrier.try_wait.parity.shared.b64 P1, [%r{{[0-9]+}}], %r{{[0-9]+}}, 10000000;
// CHECK-DAG: mbarrier.arrive.shared.b64 {{.*}}, [%r{{[0-9]+}}+98320];
// The consumers compute as on the cp.async path.
// CHECK-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-DAG: ex2.approx.ftz.f32
// CHECK: ret;

// The metadata names each tensor map with its tensor and box, so the
// runtime can encode it.
// META: "num_stages": 2
// META: "tile_m": 128
// META: "tile_n": 64
// META: "load_path": "tma"
// META: "box_cols": 64,
// META-NEXT: "box_rows": 128,
// META-NEXT: "name": "q_tma",
// META-NEXT: "swizzle": 128,
// META-NEXT: "tensor": "q",
// META-NEXT: "type": "tensor_map"
// META: "name": "k_tma",
// META: "tensor": "k",
// META: "name": "v_tma",
// META: "tensor": "v",
// META: "smem_bytes": 98344
// META: "threads": 384

fa4.attention @tma_bf16 dtype(bf16) head_dim(128) head_dim_v(128) causal
    load_path(tma) stages(2)

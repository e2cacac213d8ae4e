// The named pipeline, and the same stages spelled out pass by pass so that a
// regression can be bisected.
//
// RUN: fa4-opt %s --fa4-to-ptx="chip=sm_120a" | FileCheck %s --check-prefix=PTX
// RUN: fa4-opt %s --fa4-to-llvm="chip=sm_120a" | FileCheck %s --check-prefix=LLVM
// RUN: fa4-opt %s --pass-pipeline='builtin.module(fa4-tile-attention{chip=sm_120a}, gpu.module(fa4-schedule-kv-loop, fa4-scope-attention, convert-fa4-to-nvvm, convert-scf-to-cf, convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1 index-bitwidth=32}, convert-nvvm-to-llvm, reconcile-unrealized-casts, cse))' > %t.spelled
// RUN: FileCheck %s --check-prefix=LLVM < %t.spelled
// RUN: fa4-opt %s --fa4-to-llvm="chip=sm_120a" | diff - %t.spelled

// PTX-LABEL: gpu.binary @fwd
// PTX-SAME: #nvvm.target<O = 3, chip = "sm_120a", features = "+ptx87">
// PTX-SAME: fa4.metadata
// PTX-SAME: assembly = "
// PTX-SAME: .entry fwd(
// PTX-NOT: fa4.attention

// After lowering, only LLVM and NVVM remain: the kernel is an llvm.func with
// its ABI, features, shared-memory size and exact thread count (D = 64:
// four warps of 32 rows).
// LLVM-LABEL: gpu.module @fwd
// LLVM: llvm.mlir.global external @fa4_smem() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<0 x i8>
// LLVM: llvm.func @fwd(%{{.*}}: !llvm.ptr<1>,
// LLVM-SAME: fa4.abi = ["q", "k", "v", "o", "lse"
// LLVM-SAME: fa4.smem_bytes = 49152
// LLVM-SAME: nvvm.kernel
// LLVM-SAME: nvvm.reqntid = array<i32: 128, 1, 1>
// LLVM-NOT: fa4.
// LLVM-NOT: scf.
// LLVM-NOT: vector.
// LLVM-NOT: arith.
// LLVM-NOT: gpu.func
fa4.attention @fwd dtype(bf16) head_dim(64) head_dim_v(64) causal
    load_path(cp_async) stages(2)

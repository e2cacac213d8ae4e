// fa4-emit-ptx leaves out fifteen LLVM passes that change none of fa4's
// kernels (lib/Target/PTX/LLVMPipeline.cpp). For a kernel of each kind
// (cp.async, TMA, a KV cache with its split-KV combine, dropout, four warps
// of 32 rows, block lists, a switchable kernel, the KV append), the PTX is
// byte-identical with every pass run (full-llvm-pipeline). Over the whole of
// kernels/ and every target: tools/check-llvm-pipeline.sh.
//
// RUN: rm -rf %t
// RUN: fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t/fa4" -o /dev/null
// RUN: fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t/full full-llvm-pipeline=true" -o /dev/null
// RUN: diff -r %t/fa4 %t/full
// RUN: ls %t/fa4 | FileCheck %s

// CHECK: k_block_sparse.ptx
// CHECK: k_causal.ptx
// CHECK: k_dropout.ptx
// CHECK: k_four_warps.ptx
// CHECK: k_kv_append.ptx
// CHECK: k_kvcache_paged.ptx
// CHECK: k_switchable_dropout.ptx
// CHECK: k_tma_window.ptx

fa4.attention @k_causal dtype(bf16) head_dim(128) head_dim_v(128) causal
    load_path(cp_async) stages(1)
fa4.attention @k_tma_window dtype(bf16) head_dim(128) head_dim_v(128) window
    load_path(tma) stages(2)
fa4.attention @k_kvcache_paged dtype(bf16) head_dim(128) head_dim_v(128)
    paged_kv kv_cache split_kv load_path(cp_async) stages(2)
fa4.attention @k_dropout dtype(f16) head_dim(64) head_dim_v(64) dropout
    load_path(cp_async) stages(2)
fa4.attention @k_four_warps dtype(bf16) head_dim(96) head_dim_v(96) causal
    varlen load_path(cp_async) stages(1)
fa4.attention @k_block_sparse dtype(bf16) head_dim(96) head_dim_v(96) causal
    varlen block_sparse load_path(cp_async) stages(1)
fa4.attention @k_switchable_dropout dtype(bf16) head_dim(64) head_dim_v(64)
    window softcap alibi switchable varlen paged_kv dropout
    load_path(cp_async) stages(2)
fa4.kv_append @k_kv_append dtype(bf16)

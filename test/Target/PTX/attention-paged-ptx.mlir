// The varlen and paged kernels in PTX, for sm_120a (ptxas resources: the
// kernels/ptxas.test suite).
// REQUIRES: ptxas
// RUN: rm -rf %t && fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t" -o /dev/null
// RUN: FileCheck %s --input-file=%t/paged.ptx --check-prefix=PAGED
// RUN: FileCheck %s --input-file=%t/varlen.ptx --check-prefix=VARLEN
// RUN: FileCheck %s --input-file=%t/paged.json --check-prefix=META
// RUN: %ptxas -arch=sm_120a %t/paged.ptx -o /dev/null

// The page index of a row is a mul.hi and a shift by the runtime's
// reciprocal; the only division left is the GQA head ratio.
// PAGED: .entry paged(
// PAGED: div.u32
// PAGED-NOT: div.u32
// PAGED-NOT: rem.u32
// PAGED-DAG: mul.hi.u32
// PAGED-DAG: min.u32
// PAGED-DAG: cp.async.cg.shared.global
// PAGED: ret;

// Varlen reads its sequence from cu_seqlens (global loads before any
// cp.async) and marks uncovered rows with NaN stores.
// VARLEN: .entry varlen(
// VARLEN: ld.global.b32
// VARLEN: ld.global.b32
// VARLEN: cp.async.cg.shared.global
// VARLEN: ret;

// META: "grid": [
// META-NEXT: "max(cdiv(max_seqlen_q, 128), 1)",
// META: "name": "page_magic",
// META-NEXT: "type": "i32"
// META: "name": "page_shift",

fa4.attention @paged dtype(bf16) head_dim(128) head_dim_v(128) causal varlen
    paged_kv load_path(cp_async) stages(2)
fa4.attention @varlen dtype(f16) head_dim(64) head_dim_v(64) varlen
    load_path(cp_async) stages(1)

// A split-KV module through the whole pipeline, read as PTX: the attention
// kernel lets its dependents launch first thing, and the combine kernel
// waits for the attention grid before its first global load, so that a
// programmatic (PDL) launch of the combine never reads a partial early.
// LLVM's intrinsic for griddepcontrol.wait is IntrNoMem: this checks that
// no load was scheduled above it.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t" -o /dev/null
// RUN: FileCheck %s < %t/decode.ptx
// RUN: FileCheck %s --check-prefix=META < %t/decode.json

// CHECK-LABEL: .visible .entry decode(
// CHECK: {
// CHECK-NOT: ld.global
// CHECK-NOT: cp.async
// CHECK: griddepcontrol.launch_dependents;
// CHECK-LABEL: .visible .entry decode_combine(
// CHECK: {
// CHECK-NOT: ld.global
// CHECK: griddepcontrol.wait;
// CHECK: ld.global

// Only the combine is launched programmatically.
// META-NOT: programmatic_wait
// META: "name": "decode",
// META: "config": {
// META-NEXT: "columns_per_thread": 4,
// META-NEXT: "programmatic_wait": true
// META: "name": "decode_combine"
fa4.attention @decode dtype(bf16) head_dim(128) head_dim_v(128) kv_cache
    split_kv load_path(cp_async) stages(2)

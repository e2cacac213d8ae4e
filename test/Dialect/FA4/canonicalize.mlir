// RUN: fa4-opt %s --split-input-file --allow-unregistered-dialect --canonicalize | FileCheck %s

// fa4.kv_range folds when its operands are constants; the results are the
// formulas of its description (convert-fa4-to-nvvm.mlir lowers the same
// cases to arithmetic and gets the same numbers).
// CHECK-LABEL: gpu.func @causal_square
// 1000 keys in blocks of 64: 16 blocks, the last ragged; causal from row 0
// sees blocks 0 and 1 only, both on the diagonal (masked).
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i32
// CHECK: "use"(%[[C0]], %[[C0]], %[[C0]], %[[C2]])
gpu.module @m {
  gpu.func @causal_square() kernel {
    %row = arith.constant 0 : i32
    %s = arith.constant 1000 : i32
    %r:4 = fa4.kv_range causal rows(%row, 128) seqlen(%s, %s) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// CHECK-LABEL: gpu.func @causal_later_rows
// Rows 896..1023 of 1000 x 1000: blocks 0..15, blocks from 14 on masked.
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[C14:.*]] = arith.constant 14 : i32
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : i32
// CHECK: "use"(%[[C0]], %[[C0]], %[[C14]], %[[C16]])
gpu.module @m {
  gpu.func @causal_later_rows() kernel {
    %row = arith.constant 896 : i32
    %s = arith.constant 1000 : i32
    %r:4 = fa4.kv_range causal rows(%row, 128) seqlen(%s, %s) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// CHECK-LABEL: gpu.func @full_even
// 128 keys, no mask kind: two blocks, none ragged, none masked.
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i32
// CHECK: "use"(%[[C0]], %[[C0]], %[[C2]], %[[C2]])
gpu.module @m {
  gpu.func @full_even() kernel {
    %row = arith.constant 0 : i32
    %sq = arith.constant 7 : i32
    %sk = arith.constant 128 : i32
    %r:4 = fa4.kv_range none rows(%row, 128) seqlen(%sq, %sk) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// CHECK-LABEL: gpu.func @causal_no_keys
// Causal with 300 queries and 100 keys: rows 0..127 see no key, the range
// is empty (end <= begin).
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[CM1:.*]] = arith.constant -1 : i32
// CHECK: "use"(%[[C0]], %[[C0]], %[[C0]], %[[CM1]])
gpu.module @m {
  gpu.func @causal_no_keys() kernel {
    %row = arith.constant 0 : i32
    %sq = arith.constant 300 : i32
    %sk = arith.constant 100 : i32
    %r:4 = fa4.kv_range causal rows(%row, 128) seqlen(%sq, %sk) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// Run-time lengths: a kind without a left window edge still starts at 0
// with nothing masked below, so begin and full_begin fold.
// CHECK-LABEL: gpu.func @dynamic
// CHECK: %[[C0:.*]] = arith.constant 0 : i32
// CHECK: %{{.*}}, %{{.*}}, %[[FE:.*]], %[[E:.*]] = fa4.kv_range causal
// CHECK: "use"(%[[C0]], %[[C0]], %[[FE]], %[[E]])
gpu.module @m {
  gpu.func @dynamic(%row: i32, %sq: i32, %sk: i32) kernel {
    %r:4 = fa4.kv_range causal rows(%row, 128) seqlen(%sq, %sk) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

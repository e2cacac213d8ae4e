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

// CHECK-LABEL: gpu.func @window_band
// A window (256, 0) over rows 1024..1151 of 4096 x 4096, blocks of 64:
// row 1024 sees keys 768..1024, row 1151 keys 895..1151. Blocks 12..17;
// 12 and 13 reach left of 895 (masked), 14 and 15 are fully visible, 16
// and 17 cross the diagonal (masked).
// CHECK-DAG: %[[C12:.*]] = arith.constant 12 : i32
// CHECK-DAG: %[[C14:.*]] = arith.constant 14 : i32
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : i32
// CHECK-DAG: %[[C18:.*]] = arith.constant 18 : i32
// CHECK: "use"(%[[C12]], %[[C14]], %[[C16]], %[[C18]])
gpu.module @m {
  gpu.func @window_band() kernel {
    %row = arith.constant 1024 : i32
    %s = arith.constant 4096 : i32
    %left = arith.constant 256 : i32
    %right = arith.constant 0 : i32
    %r:4 = fa4.kv_range local window(%left, %right) rows(%row, 128) seqlen(%s, %s) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// CHECK-LABEL: gpu.func @window_narrow
// A window (3, 3) narrower than a block, rows 0..127 of 1000 x 1000: keys
// 0..130 in blocks 0..2, every block masked (full_begin == full_end).
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i32
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : i32
// CHECK: "use"(%[[C0]], %[[C2]], %[[C2]], %[[C3]])
gpu.module @m {
  gpu.func @window_narrow() kernel {
    %row = arith.constant 0 : i32
    %s = arith.constant 1000 : i32
    %w = arith.constant 3 : i32
    %r:4 = fa4.kv_range local window(%w, %w) rows(%row, 128) seqlen(%s, %s) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// CHECK-LABEL: gpu.func @window_past_keys
// A window (0, 0) with 1000 queries and 100 keys: the diagonal of rows
// 0..127 lies at keys -900..-773, before every key: an empty range.
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[CM12:.*]] = arith.constant -12 : i32
// CHECK: "use"(%[[C0]], %[[C0]], %[[C0]], %[[CM12]])
gpu.module @m {
  gpu.func @window_past_keys() kernel {
    %row = arith.constant 0 : i32
    %sq = arith.constant 1000 : i32
    %sk = arith.constant 100 : i32
    %w = arith.constant 0 : i32
    %r:4 = fa4.kv_range local window(%w, %w) rows(%row, 128) seqlen(%sq, %sk) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// CHECK-LABEL: gpu.func @window_last_rows
// A window (100, 0) over the last m-block, rows 256..383 of 300 x 300:
// only rows 256..299 exist. Row 256 sees keys 156..256, row 299 keys
// 199..299: blocks 2..4; 2 and 3 reach left of 199 (masked), 4 crosses the
// diagonal and the end (masked), none is fully visible. Row 383, past Sq,
// would have made 4 left-masked too (full_begin 5); it stores nothing.
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i32
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : i32
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : i32
// CHECK: "use"(%[[C2]], %[[C4]], %[[C4]], %[[C5]])
gpu.module @m {
  gpu.func @window_last_rows() kernel {
    %row = arith.constant 256 : i32
    %s = arith.constant 300 : i32
    %left = arith.constant 100 : i32
    %right = arith.constant 0 : i32
    %r:4 = fa4.kv_range local window(%left, %right) rows(%row, 128) seqlen(%s, %s) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// CHECK-LABEL: gpu.func @window_unbounded_last_rows
// A left size of Sk (unbounded: the switchable kernel's causal) over the
// same last m-block: no block is left-masked, the range equals causal's,
// blocks 0..3 fully visible, 4 masked.
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : i32
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : i32
// CHECK: "use"(%[[C0]], %[[C0]], %[[C4]], %[[C5]])
gpu.module @m {
  gpu.func @window_unbounded_last_rows() kernel {
    %row = arith.constant 256 : i32
    %s = arith.constant 300 : i32
    %right = arith.constant 0 : i32
    %r:4 = fa4.kv_range local window(%s, %right) rows(%row, 128) seqlen(%s, %s) block(64)
    "use"(%r#0, %r#1, %r#2, %r#3) : (i32, i32, i32, i32) -> ()
    gpu.return
  }
}

// -----

// A left edge keeps begin and full_begin: nothing folds with run-time
// lengths.
// CHECK-LABEL: gpu.func @window_dynamic
// CHECK: %[[B:.*]], %[[FB:.*]], %[[FE:.*]], %[[E:.*]] = fa4.kv_range local window(%{{.*}}, %{{.*}})
// CHECK: "use"(%[[B]], %[[FB]], %[[FE]], %[[E]])
gpu.module @m {
  gpu.func @window_dynamic(%row: i32, %sq: i32, %sk: i32, %l: i32, %r: i32) kernel {
    %x:4 = fa4.kv_range local window(%l, %r) rows(%row, 128) seqlen(%sq, %sk) block(64)
    "use"(%x#0, %x#1, %x#2, %x#3) : (i32, i32, i32, i32) -> ()
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

// RUN: not fa4-opt %s -o /dev/null 2>&1 | FileCheck %s
// XFAIL: *
//
// Known upstream limitation (MLIR 22): llvm.extractvalue with a position
// past its struct crashes inside ExtractValueOp::parse (mlir-opt-22 too),
// before any fa4 code runs; crash02 of the 2026-12-02 fuzzing is the same.
// fa4's passes never build such an op. This test expects the crash
// (XFAIL) and starts failing, as a reminder, once the parser reports it.
// CHECK: error:

llvm.func @f(%s: !llvm.struct<(f32, f32)>) -> f32 {
  %0 = llvm.extractvalue %s[72057594037927936] : !llvm.struct<(f32, f32)>
  llvm.return %0 : f32
}

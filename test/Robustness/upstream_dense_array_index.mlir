// RUN: not fa4-opt %s -o /dev/null 2>&1 | FileCheck %s
// XFAIL: *
//
// Known upstream limitation (MLIR 22): a dense array attribute of element
// type index (`array<index: ...>`) crashes inside Parser::parseDenseArrayAttr
// (mlir-opt-22 too), before any fa4 code runs; found by
// tools/fa4-fuzz/mutate.py from a known_block_size. fa4's passes never build
// one. This test expects the crash (XFAIL) and starts failing, as a
// reminder, once the parser reports it.
// CHECK: error:

func.func @f() attributes {a = array<index: 256, 1, 1>} {
  return
}

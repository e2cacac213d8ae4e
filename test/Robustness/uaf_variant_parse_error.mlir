// RUN: rm -rf %t && mkdir -p %t && not fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t" -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer uaf_variant_parse_error of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): The use-after-free's smallest form with
// fa4.variant's else region.
// CHECK: error: expected operation name in quotes

%45 = arith.maxsi %44, %44 : i32
fa4.variant "causal" {
  %44 = arith.constant 1 : i32
} else {
  %z = arith.constant 0 : i32
  %q = 

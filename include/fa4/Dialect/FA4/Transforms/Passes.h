//===- Passes.h - fa4 transformation passes ---------------------*- C++ -*-===//
//
// Declares the fa4 dialect's transformation passes.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_DIALECT_FA4_TRANSFORMS_PASSES_H
#define FA4_DIALECT_FA4_TRANSFORMS_PASSES_H

#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace fa4 {

#define GEN_PASS_DECL
#include "fa4/Dialect/FA4/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "fa4/Dialect/FA4/Transforms/Passes.h.inc"

} // namespace fa4
} // namespace mlir

#endif // FA4_DIALECT_FA4_TRANSFORMS_PASSES_H

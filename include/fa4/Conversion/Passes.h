//===- Passes.h - fa4 conversion passes -------------------------*- C++ -*-===//
//
// Declares the conversions out of the fa4 dialect.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_CONVERSION_PASSES_H
#define FA4_CONVERSION_PASSES_H

#include "fa4/Conversion/FA4ToNVVM/FA4ToNVVM.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace fa4 {

#define GEN_PASS_DECL
#include "fa4/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "fa4/Conversion/Passes.h.inc"

} // namespace fa4
} // namespace mlir

#endif // FA4_CONVERSION_PASSES_H

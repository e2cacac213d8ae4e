//===- InitAllDialects.h - what fa4 tools parse -----------------*- C++ -*-===//
//
// The dialects fa4's tools parse, and the interfaces their lowering needs.
// Only these: fa4 registers what it reads, not all of MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_INITALLDIALECTS_H
#define FA4_INITALLDIALECTS_H

#include "mlir/IR/DialectRegistry.h"

namespace mlir {
namespace fa4 {

/// Adds fa4 plus arith, cf, func, gpu, llvm, nvvm, scf and vector, the
/// ConvertToLLVM interfaces of those dialects and the LLVM IR translations
/// PTX emission uses.
void registerAllDialects(DialectRegistry &registry);

} // namespace fa4
} // namespace mlir

#endif // FA4_INITALLDIALECTS_H

//===- FA4ToNVVM.h - fa4 block program to NVVM ------------------*- C++ -*-===//
//
// Patterns that lower the fa4 block-level program to NVVM, LLVM, vector,
// arith and scf ops.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_CONVERSION_FA4TONVVM_FA4TONVVM_H
#define FA4_CONVERSION_FA4TONVVM_FA4TONVVM_H

#include "mlir/Transforms/DialectConversion.h"

namespace mlir {
namespace fa4 {

/// Name of the dynamic shared-memory array every kernel's tiles live in.
constexpr llvm::StringLiteral kSharedMemorySymbol = "fa4_smem";

/// Adds the conversions of !fa4.acc and !fa4.rows (to vector<N x f32>) and
/// !fa4.smem (to !llvm.ptr<3>).
void populateFA4ToNVVMTypeConversions(TypeConverter &converter);

/// Adds the patterns that lower every fa4 op of the block-level program.
void populateFA4ToNVVMConversionPatterns(const TypeConverter &converter,
                                         RewritePatternSet &patterns);

} // namespace fa4
} // namespace mlir

#endif // FA4_CONVERSION_FA4TONVVM_FA4TONVVM_H

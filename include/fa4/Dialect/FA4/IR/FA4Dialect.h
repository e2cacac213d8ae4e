//===- FA4Dialect.h - fa4 dialect -------------------------------*- C++ -*-===//
//
// Declares the fa4 dialect.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_DIALECT_FA4_IR_FA4DIALECT_H
#define FA4_DIALECT_FA4_IR_FA4DIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Dialect.h"

#include "fa4/Dialect/FA4/IR/FA4OpsDialect.h.inc"

#endif // FA4_DIALECT_FA4_IR_FA4DIALECT_H

//===- FA4Attrs.h - fa4 attributes ------------------------------*- C++ -*-===//
//
// Declares the fa4 dialect's attributes (the tile-source kinds) and their
// interface.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_DIALECT_FA4_IR_FA4ATTRS_H
#define FA4_DIALECT_FA4_IR_FA4ATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

#include "fa4/Dialect/FA4/IR/FA4Interfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "fa4/Dialect/FA4/IR/FA4OpsAttrs.h.inc"

#endif // FA4_DIALECT_FA4_IR_FA4ATTRS_H

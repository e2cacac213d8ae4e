//===- FA4Dialect.cpp - fa4 dialect ---------------------------------------===//
//
// Registers the fa4 dialect's operations and types.
//
//===----------------------------------------------------------------------===//

#include "fa4/Dialect/FA4/IR/FA4Dialect.h"
#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/IR/FA4Types.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::fa4;

#include "fa4/Dialect/FA4/IR/FA4OpsDialect.cpp.inc"

void FA4Dialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "fa4/Dialect/FA4/IR/FA4Ops.cpp.inc"
      >();
  registerTypes();
  registerAttributes();
}

Operation *FA4Dialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto integer = dyn_cast<IntegerAttr>(value);
  if (!integer || integer.getType() != type)
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, integer);
}

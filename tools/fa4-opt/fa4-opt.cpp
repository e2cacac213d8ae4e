//===- fa4-opt.cpp - fa4 optimizer driver ---------------------------------===//
//
// mlir-opt for fa4: parses the dialects fa4 uses and runs fa4's passes and
// pipelines, e.g.
//
//   fa4-opt kernel.mlir --fa4-to-ptx="chip=sm_120a output-dir=out" -o /dev/null
//
//===----------------------------------------------------------------------===//

#include "fa4/InitAllDialects.h"
#include "fa4/InitAllPasses.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::fa4::registerAllPasses();
  mlir::DialectRegistry registry;
  mlir::fa4::registerAllDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "fa4 optimizer driver\n", registry));
}

//===- InitAllPasses.h - what fa4 tools run ---------------------*- C++ -*-===//
//
// fa4's passes and pipelines, plus the upstream passes its pipeline uses.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_INITALLPASSES_H
#define FA4_INITALLPASSES_H

namespace mlir {
namespace fa4 {

/// Registers fa4's passes and pipelines and the upstream passes they use.
void registerAllPasses();

} // namespace fa4
} // namespace mlir

#endif // FA4_INITALLPASSES_H

//===- Patterns.h - the fa4-to-NVVM patterns, by concern --------*- C++ -*-===//
//
// convert-fa4-to-nvvm is one dialect conversion whose patterns live in one
// file per concern. Each populate function adds one concern's patterns; the
// pass (FA4ToNVVM.cpp) adds them all.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_CONVERSION_FA4TONVVM_PATTERNS_H
#define FA4_LIB_CONVERSION_FA4TONVVM_PATTERNS_H

#include "mlir/Transforms/DialectConversion.h"

namespace mlir {
namespace fa4 {

/// fa4.scope, fa4.smem_buffer, fa4.kv_range, fa4.varlen_seqlens,
/// fa4.cache_seqlens (Structure.cpp).
void populateStructurePatterns(const TypeConverter &converter,
                               RewritePatternSet &patterns);
/// fa4.load_tile, fa4.load_paged_tile, fa4.commit_loads, fa4.wait_loads,
/// fa4.tma_load, fa4.load_a (Loads.cpp).
void populateLoadPatterns(const TypeConverter &converter,
                          RewritePatternSet &patterns);
/// fa4.qk_mma, fa4.pv_mma, fa4.pack_a (Mma.cpp).
void populateMmaPatterns(const TypeConverter &converter,
                         RewritePatternSet &patterns);
/// fa4.splat, fa4.mask, fa4.online_softmax, fa4.rescale, fa4.finalize
/// (Softmax.cpp).
void populateSoftmaxPatterns(const TypeConverter &converter,
                             RewritePatternSet &patterns);
/// fa4.dropout (Dropout.cpp).
void populateDropoutPatterns(const TypeConverter &converter,
                             RewritePatternSet &patterns);
/// fa4.store_tile, fa4.store_rows, fa4.fill_nan (Stores.cpp).
void populateStorePatterns(const TypeConverter &converter,
                           RewritePatternSet &patterns);
/// fa4.merge_splits (Combine.cpp).
void populateCombinePatterns(const TypeConverter &converter,
                             RewritePatternSet &patterns);
/// fa4.warp_specialize, fa4.smem_barriers, fa4.barrier_* (Barriers.cpp).
void populateBarrierPatterns(const TypeConverter &converter,
                             RewritePatternSet &patterns);

/// Threads of the kernel enclosing `op` (its known block size), or an error
/// on `op`.
FailureOr<int64_t> getNumThreads(Operation *op);

/// The address of the shared-memory array at byte `offset`.
Value getSharedMemoryAddress(OpBuilder &b, Location loc, int64_t offset);

} // namespace fa4
} // namespace mlir

#endif // FA4_LIB_CONVERSION_FA4TONVVM_PATTERNS_H

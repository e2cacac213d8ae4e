//===- ScopeAttention.cpp - SSA-safe scoping of the block program ---------===//
//
// FA4's CuTe DSL port of SM120 hit two compiler-level bugs when variant paths
// were stacked into one kernel (see the seed's CONFLICTS_LOG): a block-sparse
// path and the dense path both defined `row_scale` and the O staging buffer
// `sO`, which collided once a compile-time branch and a run-time branch
// assigned the same names; and the split-KV empty-range guard had to yield
// defined results. This pass makes both impossible in fa4:
//
//   1. static choices (fa4.variant) are resolved against the kernel's
//      features before any fa4.guard becomes dynamic control flow;
//   2. every scope's shared-memory buffers get byte ranges of their own;
//   3. every fa4.guard becomes an scf.if that yields each of its results on
//      both paths, the skipped path yielding the guard's declared values.
//
// Values cannot collide at all: each path's working values are distinct SSA
// values, and a scope may not touch a buffer it does not own (ScopeOp's
// verifier).
//
//===----------------------------------------------------------------------===//

#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/IR/FA4Target.h"
#include "fa4/Dialect/FA4/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/MathExtras.h"

namespace mlir {
namespace fa4 {
#define GEN_PASS_DEF_FA4SCOPEATTENTIONPASS
#include "fa4/Dialect/FA4/Transforms/Passes.h.inc"
} // namespace fa4
} // namespace mlir

using namespace mlir;
using namespace mlir::fa4;

namespace {

/// Moves the ops of `region`'s single block in front of `op` and erases
/// `op`. An empty region just erases `op`.
static void inlineRegionBefore(RewriterBase &rewriter, Region &region,
                               Operation *op) {
  if (!region.empty())
    rewriter.inlineBlockBefore(&region.front(), op);
  rewriter.eraseOp(op);
}

/// Step 1: replaces each fa4.variant with the path its feature selects.
static LogicalResult resolveVariants(gpu::GPUFuncOp func) {
  auto features = func->getAttrOfType<DictionaryAttr>("fa4.features");
  IRRewriter rewriter(func.getContext());
  // Resolve outermost first: inlining a path exposes the variants inside it.
  while (true) {
    VariantOp variant;
    func.walk<WalkOrder::PreOrder>([&](VariantOp op) {
      variant = op;
      return WalkResult::interrupt();
    });
    if (!variant)
      return success();
    auto flag = features ? features.getAs<BoolAttr>(variant.getFeature())
                         : BoolAttr();
    if (!flag)
      return variant.emitOpError()
             << "selects on '" << variant.getFeature()
             << "', which is not a boolean feature of kernel '"
             << func.getName() << "'";
    rewriter.setInsertionPoint(variant);
    inlineRegionBefore(rewriter,
                       flag.getValue() ? variant.getThenRegion()
                                       : variant.getElseRegion(),
                       variant);
  }
}

/// Step 2: gives every buffer a 1024-aligned byte range of its own and
/// records the total as `fa4.smem_bytes`.
static LogicalResult planSharedMemory(gpu::GPUFuncOp func) {
  FailureOr<const TargetInfo *> target = getModuleTarget(func);
  if (failed(target))
    return failure();
  int64_t budget = (*target)->smemPerBlock;

  // Buffers are laid out one after another in program order, barrier
  // arrays after all tiles (8-byte aligned, so they cost no padding).
  // Buffers of different scopes are therefore disjoint even when both paths
  // are live in one kernel: the collision of the seed cannot happen.
  int64_t end = 0;
  Builder b(func.getContext());
  auto place = [&](Operation *op, StringRef name, int64_t size,
                   int64_t alignment) {
    int64_t offset = llvm::alignTo(end, alignment);
    op->setAttr("offset", b.getI64IntegerAttr(offset));
    end = offset + size;
    if (end <= budget)
      return WalkResult::advance();
    op->emitOpError() << "'" << name << "' ends at byte " << end
                      << ", past the " << budget
                      << " B shared-memory budget";
    return WalkResult::interrupt();
  };
  WalkResult result = func.walk([&](SmemBufferOp buffer) {
    return place(buffer, buffer.getSymName(),
                 buffer.getType().getSizeInBytes(), kSmemBufferAlignment);
  });
  if (!result.wasInterrupted())
    result = func.walk([&](SmemBarriersOp barriers) {
      return place(barriers, barriers.getSymName(),
                   kMBarrierBytes * barriers.getType().getCount(),
                   kMBarrierBytes);
    });
  if (result.wasInterrupted())
    return failure();
  func->setAttr("fa4.smem_bytes", b.getI64IntegerAttr(end));
  return success();
}

/// Erases the terminator scf.if's builder may have put in `block`.
static void eraseTerminator(RewriterBase &rewriter, Block *block) {
  if (!block->empty() && block->back().hasTrait<OpTrait::IsTerminator>())
    rewriter.eraseOp(&block->back());
}

/// Step 3: lowers each fa4.guard to an scf.if that yields every result.
static void lowerGuards(gpu::GPUFuncOp func) {
  IRRewriter rewriter(func.getContext());
  SmallVector<GuardOp> guards;
  func.walk([&](GuardOp guard) { guards.push_back(guard); });
  // Post-order: inner guards first; each is self-contained.
  for (GuardOp guard : guards) {
    rewriter.setInsertionPoint(guard);
    auto ifOp = scf::IfOp::create(rewriter, guard.getLoc(),
                                  guard.getResultTypes(), guard.getCondition(),
                                  /*withElseRegion=*/true);
    // The guarded path: the guard's body, its yield now an scf.yield.
    Block *thenBlock = ifOp.thenBlock();
    eraseTerminator(rewriter, thenBlock);
    rewriter.inlineBlockBefore(&guard.getBody().front(), thenBlock,
                               thenBlock->end());
    auto yield = cast<YieldOp>(thenBlock->back());
    rewriter.setInsertionPoint(yield);
    rewriter.replaceOpWithNewOp<scf::YieldOp>(yield, yield.getValues());
    // The skipped path: the values declared on the guard.
    Block *elseBlock = ifOp.elseBlock();
    eraseTerminator(rewriter, elseBlock);
    rewriter.setInsertionPointToEnd(elseBlock);
    scf::YieldOp::create(rewriter, guard.getLoc(), guard.getElseValues());
    rewriter.replaceOp(guard, ifOp.getResults());
  }
}

struct FA4ScopeAttentionPass final
    : fa4::impl::FA4ScopeAttentionPassBase<FA4ScopeAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<gpu::GPUFuncOp>()) {
      if (failed(resolveVariants(func)) || failed(planSharedMemory(func)))
        return signalPassFailure();
      lowerGuards(func);
    }
  }
};

} // namespace

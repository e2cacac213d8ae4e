//===- Structure.cpp - scopes and shared-memory buffers -------------------===//
//
// The structural ops of the block program: a scope's ops move into its parent
// block (ownership was checked by then), and each shared-memory buffer
// becomes its planned offset into the one dynamic shared-memory array.
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"
#include "Patterns.h"
#include "fa4/Conversion/FA4ToNVVM/FA4ToNVVM.h"
#include "fa4/Dialect/FA4/IR/FA4Ops.h"

using namespace mlir;
using namespace mlir::fa4;

Value fa4::getSharedMemoryAddress(OpBuilder &b, Location loc, int64_t offset) {
  Emitter e(b, loc);
  auto ptrTy = LLVM::LLVMPointerType::get(b.getContext(), 3);
  Value base = LLVM::AddressOfOp::create(b, loc, ptrTy, kSharedMemorySymbol);
  return e.gepBytes(base, e.i32(offset));
}

namespace {

struct ScopeOpLowering : OpConversionPattern<ScopeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ScopeOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.inlineBlockBefore(&op.getBody().front(), op);
    rewriter.eraseOp(op);
    return success();
  }
};

struct SmemBufferOpLowering : OpConversionPattern<SmemBufferOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SmemBufferOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::optional<uint64_t> offset = op.getOffset();
    if (!offset)
      return rewriter.notifyMatchFailure(
          op, "buffer has no offset: run fa4-scope-attention first");
    rewriter.replaceOp(op, getSharedMemoryAddress(rewriter, op.getLoc(),
                                                  static_cast<int64_t>(*offset)));
    return success();
  }
};

} // namespace

void fa4::populateStructurePatterns(const TypeConverter &converter,
                                    RewritePatternSet &patterns) {
  patterns.add<ScopeOpLowering, SmemBufferOpLowering>(converter,
                                                       patterns.getContext());
}

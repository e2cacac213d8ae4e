//===- Combine.cpp - split-KV partial outputs merged ----------------------===//
//
// fa4.merge_splits: one thread's columns of one output row, from every
// split's LSE and normalized partial O.
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"
#include "Patterns.h"
#include "fa4/Dialect/FA4/IR/FA4Ops.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::fa4;

namespace {

/// Two loops over the splits. The first is an online log-sum-exp of the
/// LSEs in base 2 (x_i = lse_i * log2 e):
///   m' = max(m, x_i), base = m' == -inf ? 0 : m',
///   s' = s * exp2(m - base) + exp2(x_i - base)
/// (the base keeps exp2(-inf - -inf) out), then lse2 = base + log2(s), or
/// -inf when every split is empty. The second accumulates
/// O = sum_i exp2(x_i - lse2) * O_i with one 16-byte load per split.
struct MergeSplitsOpLowering : OpConversionPattern<MergeSplitsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MergeSplitsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Emitter e(rewriter, loc);
    Type f32 = rewriter.getF32Type();
    auto vecType = cast<VectorType>(op.getOut().getType());
    int64_t width = vecType.getNumElements();
    Value log2e = e.f32(1.4426950408889634);
    Value negInf = e.negInf();
    Value zero = e.i32(0), one = e.i32(1);
    Value count = adaptor.getNumSplits();
    auto splitPtr = [&](OpBuilder &b, Value base, Value stride, Value i) {
      Value i64 = arith::ExtUIOp::create(b, loc, b.getI64Type(), i);
      Value offset = arith::MulIOp::create(b, loc, i64, stride);
      return LLVM::GEPOp::create(b, loc, base.getType(), f32, base,
                                 ValueRange{offset})
          .getResult();
    };
    auto baseOf = [](Emitter &x, Value m, Value negInf) {
      Value empty = arith::CmpFOp::create(x.b, x.loc, arith::CmpFPredicate::OEQ,
                                          m, negInf);
      return x.select(empty, x.f32(0.0), m);
    };

    // ---- Pass 1: lse2 = log2(sum_i 2^x_i) ----
    auto lseLoop = scf::ForOp::create(
        rewriter, loc, zero, count, one, ValueRange{negInf, e.f32(0.0)},
        [&](OpBuilder &b, Location, Value i, ValueRange state) {
          Emitter inner(b, loc);
          Value ptr = splitPtr(b, adaptor.getLsePartial(),
                               adaptor.getLseSplitStride(), i);
          Value lse = LLVM::LoadOp::create(b, loc, f32, ptr, /*alignment=*/4);
          Value x = inner.fmul(lse, log2e);
          Value m = state[0], s = state[1];
          Value m1 = inner.fmax(m, x);
          Value base = baseOf(inner, m1, negInf);
          Value s1 = inner.fma(s, inner.exp2(inner.fsub(m, base)),
                               inner.exp2(inner.fsub(x, base)));
          scf::YieldOp::create(b, loc, ValueRange{m1, s1});
        });
    Value m = lseLoop.getResult(0), sum = lseLoop.getResult(1);
    Value empty = arith::CmpFOp::create(rewriter, loc,
                                        arith::CmpFPredicate::OEQ, m, negInf);
    Value lse2 = e.select(empty, negInf, e.fadd(m, e.log2(sum)));
    Value lse2Base = e.select(empty, e.f32(0.0), lse2);

    // ---- Pass 2: O = sum_i 2^(x_i - lse2) O_i ----
    Value acc0 = arith::ConstantOp::create(
        rewriter, loc, vecType,
        DenseElementsAttr::get(vecType, rewriter.getF32FloatAttr(0.0f)));
    auto outLoop = scf::ForOp::create(
        rewriter, loc, zero, count, one, ValueRange{acc0},
        [&](OpBuilder &b, Location, Value i, ValueRange state) {
          Emitter inner(b, loc);
          Value lsePtr = splitPtr(b, adaptor.getLsePartial(),
                                  adaptor.getLseSplitStride(), i);
          Value lse =
              LLVM::LoadOp::create(b, loc, f32, lsePtr, /*alignment=*/4);
          Value weight =
              inner.exp2(inner.fsub(inner.fmul(lse, log2e), lse2Base));
          Value oPtr =
              splitPtr(b, adaptor.getOPartial(), adaptor.getOSplitStride(), i);
          Value o = LLVM::LoadOp::create(b, loc, vecType, oPtr,
                                         /*alignment=*/4 * width);
          Value w = LLVM::PoisonOp::create(b, loc, vecType);
          for (int64_t c = 0; c < width; ++c)
            w = LLVM::InsertElementOp::create(b, loc, w, weight, inner.i32(c));
          Value next = LLVM::FMAOp::create(b, loc, w, o, state[0]);
          scf::YieldOp::create(b, loc, next);
        });
    Value lse = e.fmul(lse2, e.f32(0.6931471805599453));
    rewriter.replaceOp(op, {outLoop.getResult(0), lse});
    return success();
  }
};

} // namespace

void fa4::populateCombinePatterns(const TypeConverter &converter,
                                  RewritePatternSet &patterns) {
  patterns.add<MergeSplitsOpLowering>(converter, patterns.getContext());
}

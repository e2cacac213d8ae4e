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

/// Splits merged per round: every round issues its loads (one LSE and one
/// 16-byte O per split) before any arithmetic, so a round costs about one
/// L2 round trip. The previous form, one split per loop iteration, waited
/// for each load in turn: 9.1 us for 32 splits on the H200 (run 36), most
/// of a 73 us decode step.
constexpr int64_t kSplitsPerRound = 16;

/// One online pass over the splits, kSplitsPerRound at a time, in base 2
/// (x_i = lse_i * log2 e). With running max m, sum s = sum_i 2^(x_i - m)
/// and accumulator a = sum_i 2^(x_i - m) O_i, a round of splits j does
///   m' = max(m, max_j x_j), base = m' == -inf ? 0 : m',
///   c = 2^(m - base), s' = c s + sum_j 2^(x_j - base),
///   a' = c a + sum_j 2^(x_j - base) O_j
/// (the base keeps 2^(-inf - -inf) out). Lanes past the last split load the
/// last split again and weigh it 0 (x_j = -inf). At the end
/// lse2 = m + log2(s) and O = a / s, or -inf and 0 when every split is
/// empty.
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
    Value count = adaptor.getNumSplits();
    Value rounds =
        e.divU(e.add(count, e.i32(kSplitsPerRound - 1)), kSplitsPerRound);
    Value last = e.sub(count, e.i32(1));
    auto splitPtr = [&](OpBuilder &b, Value base, Value stride, Value i) {
      Value i64 = arith::ExtUIOp::create(b, loc, b.getI64Type(), i);
      Value offset = arith::MulIOp::create(b, loc, i64, stride);
      return LLVM::GEPOp::create(b, loc, base.getType(), f32, base,
                                 ValueRange{offset})
          .getResult();
    };
    auto splat = [&](Emitter &x, Value v) {
      Value w = LLVM::PoisonOp::create(x.b, loc, vecType);
      for (int64_t c = 0; c < width; ++c)
        w = LLVM::InsertElementOp::create(x.b, loc, w, v, x.i32(c));
      return w;
    };
    Value acc0 = arith::ConstantOp::create(
        rewriter, loc, vecType,
        DenseElementsAttr::get(vecType, rewriter.getF32FloatAttr(0.0f)));

    auto loop = scf::ForOp::create(
        rewriter, loc, e.i32(0), rounds, e.i32(1),
        ValueRange{negInf, e.f32(0.0), acc0},
        [&](OpBuilder &b, Location, Value round, ValueRange state) {
          Emitter x(b, loc);
          Value first = x.mul(round, x.i32(kSplitsPerRound));
          // The loads, all issued before their first use.
          SmallVector<Value> lses, outs, valid;
          for (int64_t j = 0; j < kSplitsPerRound; ++j) {
            Value i = x.add(first, x.i32(j));
            valid.push_back(x.cmp(arith::CmpIPredicate::slt, i, count));
            Value clamped = x.minS(i, last);
            lses.push_back(LLVM::LoadOp::create(
                b, loc, f32,
                splitPtr(b, adaptor.getLsePartial(),
                         adaptor.getLseSplitStride(), clamped),
                /*alignment=*/4));
            outs.push_back(LLVM::LoadOp::create(
                b, loc, vecType,
                splitPtr(b, adaptor.getOPartial(), adaptor.getOSplitStride(),
                         clamped),
                /*alignment=*/4 * width));
          }
          Value m = state[0];
          SmallVector<Value> xs;
          Value m1 = m;
          for (int64_t j = 0; j < kSplitsPerRound; ++j) {
            xs.push_back(x.select(valid[j], x.fmul(lses[j], log2e), negInf));
            m1 = x.fmax(m1, xs.back());
          }
          Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                              m1, negInf);
          Value base = x.select(empty, x.f32(0.0), m1);
          Value scale = x.exp2(x.fsub(m, base));
          Value sum = x.fmul(state[1], scale);
          Value acc = LLVM::FMulOp::create(b, loc, state[2], splat(x, scale));
          for (int64_t j = 0; j < kSplitsPerRound; ++j) {
            Value w = x.exp2(x.fsub(xs[j], base));
            sum = x.fadd(sum, w);
            acc = LLVM::FMAOp::create(b, loc, splat(x, w), outs[j], acc);
          }
          scf::YieldOp::create(b, loc, ValueRange{m1, sum, acc});
        });
    Value m = loop.getResult(0), sum = loop.getResult(1);
    Value empty = arith::CmpFOp::create(rewriter, loc,
                                        arith::CmpFPredicate::OEQ, m, negInf);
    Value lse2 = e.select(empty, negInf, e.fadd(m, e.log2(sum)));
    Value reciprocal =
        arith::DivFOp::create(rewriter, loc, e.f32(1.0), sum).getResult();
    Value inverse = e.select(empty, e.f32(0.0), reciprocal);
    Value out = LLVM::FMulOp::create(rewriter, loc, loop.getResult(2),
                                     splat(e, inverse));
    Value lse = e.fmul(lse2, e.f32(0.6931471805599453));
    rewriter.replaceOp(op, {out, lse});
    return success();
  }
};

} // namespace

void fa4::populateCombinePatterns(const TypeConverter &converter,
                                  RewritePatternSet &patterns) {
  patterns.add<MergeSplitsOpLowering>(converter, patterns.getContext());
}

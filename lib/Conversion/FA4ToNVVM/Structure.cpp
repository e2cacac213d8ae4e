//===- Structure.cpp - scopes, buffers, key ranges, sequences -------------===//
//
// The structural ops of the block program: a scope's ops move into its parent
// block (ownership was checked by then), each shared-memory buffer becomes
// its planned offset into the one dynamic shared-memory array, and the key
// range and varlen sequence ops become the integer arithmetic (and, for
// cu_seqlens, the loads) their descriptions state.
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"
#include "Patterns.h"
#include "fa4/Conversion/FA4ToNVVM/FA4ToNVVM.h"
#include "fa4/Dialect/FA4/IR/FA4Ops.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <tuple>

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


/// fa4.kv_range's formulas, in i32 (see its description).
struct KVRangeOpLowering : OpConversionPattern<KVRangeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(KVRangeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Emitter e(rewriter, loc);
    int64_t tileM = op.getTileM(), tileN = op.getTileN();
    Value qRow = adaptor.getQRow(), seqlenK = adaptor.getSeqlenK();
    auto ceilDiv = [&](Value x, int64_t d) -> Value {
      return arith::CeilDivSIOp::create(rewriter, loc, x, e.i32(d));
    };
    auto floorDiv = [&](Value x, int64_t d) -> Value {
      return arith::FloorDivSIOp::create(rewriter, loc, x, e.i32(d));
    };
    // The right edge's diagonal D + R (causal: D = Sk - Sq) and the left
    // size L, if any.
    bool causal = op.getMask() == MaskKind::Causal;
    bool local = op.getMask() == MaskKind::Local;
    // end = ceil(Sk / N), with a right edge at most
    // ceil((q0 + Mt + D + R) / N), the block after the last key any row of
    // this m-block sees (<= 0 when none sees a key).
    Value numKeyBlocks = ceilDiv(seqlenK, tileN);
    Value end = numKeyBlocks;
    Value begin = e.i32(0);
    Value diag, rightDiag, lastRowEnd, limitPlusOne;
    if (causal || local) {
      diag = e.sub(seqlenK, adaptor.getSeqlenQ());
      rightDiag = local ? e.add(diag, adaptor.getWindowRight()) : diag;
      if (local) {
        // q0 + (D + R + 1) + (Mt - 1): D + R + 1 is also the mask's bound
        // (diag_max + 1), and q0 + D + R + 1 the bound full_end is computed
        // from below; as q0 + Mt + D + R, LLVM regroups the sums and leaves
        // straight-line strength reduction (not run) a sum to reuse.
        Value bound = e.add(rightDiag, e.i32(1));
        limitPlusOne = e.add(qRow, bound);
        lastRowEnd = e.add(limitPlusOne, e.i32(tileM - 1));
      } else {
        lastRowEnd = e.add(e.add(qRow, e.i32(tileM)), rightDiag);
      }
      end = e.minS(end, ceilDiv(lastRowEnd, tileN));
    }
    // full_end: blocks at or above it need a mask. The ragged last block
    // needs the sequence mask; with a right edge, block n reaches past the
    // first row's last key L = q0 + D + R iff (n + 1) * N - 1 > L, i.e.
    // n >= floor((L + 1) / N); later rows see more, so blocks below are
    // fully visible to every row.
    Value edge = arith::RemSIOp::create(rewriter, loc, seqlenK, e.i32(tileN));
    Value hasEdge = e.cmp(arith::CmpIPredicate::ne, edge, e.i32(0));
    Value fullEnd =
        e.select(hasEdge, e.sub(numKeyBlocks, e.i32(1)), numKeyBlocks);
    if (rightDiag) {
      // The first row's last key plus one, q0 + D + R + 1 (a window's was
      // built above).
      if (!local) {
        Value firstRowLimit = e.add(qRow, rightDiag);
        limitPlusOne = e.add(firstRowLimit, e.i32(1));
      }
      Value firstMasked = floorDiv(limitPlusOne, tileN);
      fullEnd = e.minS(fullEnd, e.maxS(firstMasked, e.i32(0)));
    }
    // A left edge: the first row's first key F = q0 + D - L opens the range
    // (block floor(F / N)); block n is fully visible iff its first key is at
    // or past the last row's first key, n >= ceil((last + D - L) / N). The
    // last row is the m-block's last that exists, min(q0 + Mt - 1, Sq - 1):
    // rows past Sq store nothing, so no mask is needed for them. (Written
    // as min(F + Mt - 1, Sk - 1 - L), the same value, four d = 256 paged
    // KV-cache window kernels spill 4 bytes on sm_120a / sm_121a.)
    Value fullBegin = begin;
    if (local) {
      Value left = adaptor.getWindowLeft();
      Value firstRowFirst = e.sub(e.add(qRow, diag), left);
      begin = e.maxS(floorDiv(firstRowFirst, tileN), e.i32(0));
      Value lastQuery = e.sub(adaptor.getSeqlenQ(), e.i32(1));
      Value lastRow = e.minS(e.add(qRow, e.i32(tileM - 1)), lastQuery);
      fullBegin = ceilDiv(e.add(lastRow, e.sub(diag, left)), tileN);
      fullBegin = e.maxS(e.minS(fullBegin, end), begin);
    }
    fullEnd = e.maxS(e.minS(fullEnd, end), fullBegin);
    // Split i of n: blocks [begin + i * per, + per) of the range, clamped;
    // the masked and unmasked parts clamped into it.
    if (Value count = adaptor.getNumSplits()) {
      Value span = e.maxS(e.sub(end, begin), e.i32(0));
      Value per = arith::CeilDivSIOp::create(rewriter, loc, span, count);
      Value first =
          e.minS(e.add(begin, e.mul(adaptor.getSplitIndex(), per)), end);
      Value last = e.minS(e.add(first, per), end);
      fullBegin = e.maxS(e.minS(fullBegin, last), first);
      fullEnd = e.maxS(e.minS(fullEnd, last), fullBegin);
      begin = first;
      end = last;
    }
    rewriter.replaceOp(op, {begin, fullBegin, fullEnd, end});
    return success();
  }
};

/// fa4.varlen_seqlens: two int32 loads per cu_seqlens (and one of seqused_k
/// when it is not null), clamped as the description states.
struct VarlenSeqlensOpLowering : OpConversionPattern<VarlenSeqlensOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(VarlenSeqlensOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Emitter e(rewriter, loc);
    Type i32 = rewriter.getI32Type();
    Value batch = adaptor.getBatch();
    Value next = e.add(batch, e.i32(1));
    auto load = [&](Value base, Value index) -> Value {
      Value ptr = e.gepElements(base, i32, index);
      return LLVM::LoadOp::create(rewriter, loc, i32, ptr, /*alignment=*/4);
    };
    auto clamp = [&](Value x, Value lo, Value hi) {
      return e.minS(e.maxS(x, lo), hi);
    };
    // [start, end) of one cu_seqlens entry, inside [0, total].
    auto sequence = [&](Value cu, Value total) -> std::pair<Value, Value> {
      Value first = load(cu, batch);
      Value last = load(cu, next);
      Value start = clamp(first, e.i32(0), total);
      Value end = clamp(last, start, total);
      return {start, e.sub(end, start)};
    };
    // Plain variables, not structured bindings: the lambdas below capture
    // them (a C++20 feature for bindings).
    Value qStart, seqlenQ, kStart, seqlenK;
    std::tie(qStart, seqlenQ) =
        sequence(adaptor.getCuSeqlensQ(), adaptor.getTotalQ());
    std::tie(kStart, seqlenK) =
        sequence(adaptor.getCuSeqlensK(), adaptor.getTotalK());
    // seqused_k, when given, replaces the key count (never past total_k).
    Value used = adaptor.getSequsedK();
    Value null = LLVM::ZeroOp::create(rewriter, loc, used.getType());
    Value given =
        LLVM::ICmpOp::create(rewriter, loc, LLVM::ICmpPredicate::ne, used, null);
    Value room = e.sub(adaptor.getTotalK(), kStart);
    auto ifOp = scf::IfOp::create(
        rewriter, loc, given,
        [&](OpBuilder &b, Location) {
          Emitter inner(b, loc);
          Value ptr = inner.gepElements(used, i32, batch);
          Value count = LLVM::LoadOp::create(b, loc, i32, ptr, /*alignment=*/4);
          Value clamped = inner.minS(inner.maxS(count, inner.i32(0)), room);
          scf::YieldOp::create(b, loc, clamped);
        },
        [&](OpBuilder &b, Location) { scf::YieldOp::create(b, loc, seqlenK); });
    rewriter.replaceOp(op, {qStart, seqlenQ, kStart, ifOp.getResult(0)});
    return success();
  }
};

/// fa4.cache_seqlens: up to three int32 loads (each pointer may be null),
/// clamped as the description states.
struct CacheSeqlensOpLowering : OpConversionPattern<CacheSeqlensOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(CacheSeqlensOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Emitter e(rewriter, loc);
    Type i32 = rewriter.getI32Type();
    Value batch = adaptor.getBatch();
    // ptr ? clamp(ptr[batch], lo, hi) : otherwise.
    auto loadOr = [&](Value ptr, Value otherwise, Value lo, Value hi) -> Value {
      Value null = LLVM::ZeroOp::create(rewriter, loc, ptr.getType());
      Value given = LLVM::ICmpOp::create(rewriter, loc, LLVM::ICmpPredicate::ne,
                                         ptr, null);
      auto ifOp = scf::IfOp::create(
          rewriter, loc, given,
          [&](OpBuilder &b, Location) {
            Emitter inner(b, loc);
            Value at = inner.gepElements(ptr, i32, batch);
            Value value =
                LLVM::LoadOp::create(b, loc, i32, at, /*alignment=*/4);
            if (lo)
              value = inner.minS(inner.maxS(value, lo), hi);
            scf::YieldOp::create(b, loc, value);
          },
          [&](OpBuilder &b, Location) {
            scf::YieldOp::create(b, loc, otherwise);
          });
      return ifOp.getResult(0);
    };
    Value zero = e.i32(0);
    Value capacity = e.maxS(adaptor.getCapacity(), zero);
    Value lastEntry = e.maxS(e.sub(adaptor.getEntries(), e.i32(1)), zero);
    Value entry = loadOr(adaptor.getBatchIdx(), batch, zero, lastEntry);
    Value kStart = loadOr(adaptor.getLeftpad(), zero, zero, capacity);
    Value cached = loadOr(adaptor.getSeqlens(), adaptor.getDefaultSeqlen(),
                          Value(), Value());
    Value length = e.add(cached, adaptor.getSeqlenNew());
    Value end = e.minS(e.maxS(length, kStart), capacity);
    rewriter.replaceOp(op, {entry, kStart, e.sub(end, kStart)});
    return success();
  }
};

} // namespace

void fa4::populateStructurePatterns(const TypeConverter &converter,
                                    RewritePatternSet &patterns) {
  patterns.add<ScopeOpLowering, SmemBufferOpLowering, KVRangeOpLowering,
               VarlenSeqlensOpLowering, CacheSeqlensOpLowering>(
      converter, patterns.getContext());
}

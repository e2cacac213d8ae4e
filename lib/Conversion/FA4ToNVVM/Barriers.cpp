//===- Barriers.cpp - warp specialization and mbarriers -------------------===//
//
// The warp-specialized program's synchronization: the producer / consumer
// split with its setmaxnreg register hand-over, and the CTA-scope mbarriers
// the TMA ring runs on (init, arrive, arrive.expect_tx, try_wait.parity).
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"
#include "Patterns.h"
#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/IR/FA4Target.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::fa4;

namespace {

/// Barrier `index` of an array lowered to a pointer (8 bytes per barrier).
static Value barrierAddress(Emitter &e, Value base, Value index) {
  return e.gepBytes(base, e.shl(index, llvm::Log2_64(kMBarrierBytes)));
}

/// Warps [0, consumer_warps) consume; the warp group after them produces,
/// its first warp's lane 0 issuing every TMA load. setmaxnreg moves
/// registers from the producer group to the MMA warps where the target has
/// it; it is collective over each warp group, so every warp of a group runs
/// it before the producer narrows to one lane.
struct WarpSpecializeOpLowering : OpConversionPattern<WarpSpecializeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(WarpSpecializeOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Emitter e(rewriter, loc);
    Value consumerWarps = e.i32(static_cast<int64_t>(op.getConsumerWarps()));
    Value warp = e.warp();
    Value isProducer = e.cmp(arith::CmpIPredicate::sge, warp, consumerWarps);
    auto roles = scf::IfOp::create(rewriter, loc, isProducer,
                                   /*withElseRegion=*/true);
    std::optional<uint64_t> producerRegs = op.getProducerRegisters();
    std::optional<uint64_t> consumerRegs = op.getConsumerRegisters();

    // Producer warp group.
    rewriter.setInsertionPoint(roles.thenBlock()->getTerminator());
    if (producerRegs)
      NVVM::SetMaxRegisterOp::create(rewriter, loc,
                                     static_cast<int32_t>(*producerRegs),
                                     NVVM::SetMaxRegisterAction::decrease);
    Emitter pe(rewriter, loc);
    Value firstWarp =
        pe.cmp(arith::CmpIPredicate::eq, pe.warp(), consumerWarps);
    Value lane = pe.lane();
    Value laneZero = pe.cmp(arith::CmpIPredicate::eq, lane, pe.i32(0));
    Value leader = pe.band(firstWarp, laneZero);
    auto single = scf::IfOp::create(rewriter, loc, leader,
                                    /*withElseRegion=*/false);
    rewriter.inlineBlockBefore(&op.getProducer().front(),
                               single.thenBlock()->getTerminator());

    // MMA warps.
    rewriter.setInsertionPoint(roles.elseBlock()->getTerminator());
    if (consumerRegs)
      NVVM::SetMaxRegisterOp::create(rewriter, loc,
                                     static_cast<int32_t>(*consumerRegs),
                                     NVVM::SetMaxRegisterAction::increase);
    rewriter.inlineBlockBefore(&op.getConsumers().front(),
                               roles.elseBlock()->getTerminator());
    rewriter.eraseOp(op);
    return success();
  }
};

struct SmemBarriersOpLowering : OpConversionPattern<SmemBarriersOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SmemBarriersOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::optional<uint64_t> offset = op.getOffset();
    if (!offset)
      return rewriter.notifyMatchFailure(
          op, "barriers have no offset: run fa4-scope-attention first");
    rewriter.replaceOp(op, getSharedMemoryAddress(rewriter, op.getLoc(),
                                                  static_cast<int64_t>(*offset)));
    return success();
  }
};

/// Thread 0 initializes, fences the initialization for the async proxy (the
/// TMA unit arrives on these barriers), then the whole CTA synchronizes.
struct BarrierInitOpLowering : OpConversionPattern<BarrierInitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BarrierInitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Emitter e(rewriter, loc);
    Value tid = e.tid();
    Value first = e.cmp(arith::CmpIPredicate::eq, tid, e.i32(0));
    int64_t count = op.getBarriers().getType().getCount();
    Value arrivals = e.i32(static_cast<int64_t>(op.getArrivals()));
    Value base = adaptor.getBarriers();
    scf::IfOp::create(rewriter, loc, first, [&](OpBuilder &b, Location) {
      Emitter inner(b, loc);
      for (int64_t i = 0; i < count; ++i)
        NVVM::MBarrierInitOp::create(
            b, loc, barrierAddress(inner, base, inner.i32(i)), arrivals,
            Value());
      NVVM::FenceMbarrierInitOp::create(b, loc);
      NVVM::FenceProxyOp::create(
          b, loc,
          NVVM::ProxyKindAttr::get(b.getContext(),
                                   NVVM::ProxyKind::async_shared),
          NVVM::SharedSpaceAttr::get(b.getContext(),
                                     NVVM::SharedSpace::shared_cta));
      scf::YieldOp::create(b, loc);
    });
    rewriter.replaceOpWithNewOp<NVVM::Barrier0Op>(op);
    return success();
  }
};

struct BarrierArriveTxOpLowering : OpConversionPattern<BarrierArriveTxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BarrierArriveTxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    Value bar = barrierAddress(e, adaptor.getBarriers(), adaptor.getIndex());
    NVVM::MBarrierArriveExpectTxOp::create(
        rewriter, op.getLoc(), Type(), bar,
        e.i32(static_cast<int64_t>(op.getBytes())), NVVM::MemScopeKind::CTA,
        /*relaxed=*/false, /*predicate=*/Value());
    rewriter.eraseOp(op);
    return success();
  }
};

struct BarrierArriveOpLowering : OpConversionPattern<BarrierArriveOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BarrierArriveOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    Value bar = barrierAddress(e, adaptor.getBarriers(), adaptor.getIndex());
    NVVM::MBarrierArriveOp::create(rewriter, op.getLoc(), TypeRange(), bar,
                                   Value());
    rewriter.eraseOp(op);
    return success();
  }
};

/// mbarrier.try_wait.parity in a loop (upstream lowers the NVVM op to a PTX
/// spin loop: LLVM 22 has no intrinsic for it).
struct BarrierWaitOpLowering : OpConversionPattern<BarrierWaitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BarrierWaitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    Value bar = barrierAddress(e, adaptor.getBarriers(), adaptor.getIndex());
    rewriter.replaceOpWithNewOp<NVVM::MBarrierTryWaitParityOp>(
        op, bar, adaptor.getPhase(), e.i32(kTryWaitSuspendHintNs));
    return success();
  }
};

} // namespace

void fa4::populateBarrierPatterns(const TypeConverter &converter,
                                  RewritePatternSet &patterns) {
  patterns.add<WarpSpecializeOpLowering, SmemBarriersOpLowering,
               BarrierInitOpLowering, BarrierArriveTxOpLowering,
               BarrierArriveOpLowering, BarrierWaitOpLowering>(
      converter, patterns.getContext());
}

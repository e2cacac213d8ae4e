//===- ScheduleKVLoopTMA.cpp - the TMA warp-specialized schedule ----------===//
//
// fa4.kv_loop over #fa4.tma sources: a producer warp group issues the TMA
// loads of Q and of each block's K and V into a ring of stages, guarded by
// full / empty mbarriers; the MMA warps run the body per block (the shape
// is drawn in ScheduleKVLoop.cpp's header).
//
//===----------------------------------------------------------------------===//

#include "KVLoopScheduler.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::fa4;
using mlir::fa4::detail::MaskUse;
using mlir::fa4::detail::Scheduler;

SmallVector<Value> Scheduler::buildConsumerLoop(Value iBegin, Value iEnd,
                                                Value q, ValueRange init,
                                                bool masked) {
  size_t nState = numState();
  Value upper = maxS(iEnd, iBegin);
  Value step = i32(1);
  auto forOp = scf::ForOp::create(
      b, loc, iBegin, upper, step, init,
      [&](OpBuilder &, Location, Value i, ValueRange iter) {
        // Block n = end - 1 - i sits in stage i % S, in its round i / S.
        Value n = sub(sub(end(), i32(1)), i);
        Value stage = remU(i, stages);
        Value parity = remU(divU(i, stages), 2);
        ValueRange ks = iter.slice(nState, stages);
        ValueRange vs = iter.slice(nState + stages, stages);
        BarrierWaitOp::create(b, loc, fullBars, stage, parity);
        SmallVector<Value> next =
            cloneBody(n, q, ks.front(), vs.front(), iter.take_front(nState),
                      masked ? MaskUse::Full : MaskUse::None);
        // Every thread is done reading stage i % S: hand it back.
        BarrierArriveOp::create(b, loc, emptyBars, stage);
        llvm::append_range(next, rotate(ks));
        llvm::append_range(next, rotate(vs));
        scf::YieldOp::create(b, loc, next);
      });
  forOp->setAttr("fa4.loop", b.getStringAttr(masked ? "masked" : "unmasked"));
  return SmallVector<Value>(forOp.getResults());
}

void Scheduler::buildProducer(Value count) {
  auto kType = cast<SmemTileType>(loop.getKArg().getType());
  auto vType = cast<SmemTileType>(loop.getVArg().getType());
  int64_t kvBytes = kType.getSizeInBytes() + vType.getSizeInBytes();
  int64_t qBytes = loop.getQTile().getType().getSizeInBytes();
  Value nonEmpty = cmp(arith::CmpIPredicate::sgt, count, i32(0));
  scf::IfOp::create(b, loc, nonEmpty, [&](OpBuilder &, Location) {
    // Q once; it completes on its own barrier.
    Value first = i32(0);
    BarrierArriveTxOp::create(b, loc, qBar, first, qBytes);
    loadQ(qBar);
    SmallVector<Value> init(kStages);
    llvm::append_range(init, vStages);
    Value lower = i32(0);
    Value step = i32(1);
    auto forOp = scf::ForOp::create(
        b, loc, lower, count, step, init,
        [&](OpBuilder &, Location, Value i, ValueRange iter) {
          Value n = sub(sub(end(), i32(1)), i);
          Value stage = remU(i, stages);
          // From round 1 on, the stage must first be released by every
          // MMA thread (phase (round - 1) % 2 of its empty barrier).
          Value reuse = cmp(arith::CmpIPredicate::sge, i, i32(stages));
          scf::IfOp::create(b, loc, reuse, [&](OpBuilder &, Location) {
            Value round = divU(i, stages);
            Value parity = remU(sub(round, i32(1)), 2);
            BarrierWaitOp::create(b, loc, emptyBars, stage, parity);
            scf::YieldOp::create(b, loc);
          });
          // Arm the full barrier with the bytes of K and V, then load them.
          ValueRange ks = iter.take_front(stages), vs = iter.drop_front(stages);
          BarrierArriveTxOp::create(b, loc, fullBars, stage, kvBytes);
          Value row = mul(n, i32(tileN));
          loadK(row, ks.front(), fullBars, stage);
          loadV(row, vs.front(), fullBars, stage);
          SmallVector<Value> next = rotate(ks);
          llvm::append_range(next, rotate(vs));
          scf::YieldOp::create(b, loc, next);
        });
    forOp->setAttr("fa4.loop", b.getStringAttr("producer"));
    scf::YieldOp::create(b, loc);
  });
}

void Scheduler::buildWarpSpecialized() {
  MLIRContext *ctx = b.getContext();
  createStageBuffers();
  // ---- Barriers: full (TMA -> MMA), empty (MMA -> TMA), Q ----
  fullBars = SmemBarriersOp::create(
      b, loc, MBarriersType::get(ctx, stages), "full", IntegerAttr());
  emptyBars = SmemBarriersOp::create(
      b, loc, MBarriersType::get(ctx, stages), "empty", IntegerAttr());
  qBar = SmemBarriersOp::create(b, loc, MBarriersType::get(ctx, 1), "q_full",
                                IntegerAttr());
  // A full barrier completes when the producer's arrive.expect_tx and the
  // TMA bytes are in; an empty one when every MMA thread has arrived.
  auto acc = cast<AccTileType>(loop.getInit().front().getType());
  KernelConfig config;
  config.numWarps = acc.getWarps();
  config.warpSpecialized = true;
  BarrierInitOp::create(b, loc, fullBars, 1);
  BarrierInitOp::create(b, loc, emptyBars, config.numThreads());
  BarrierInitOp::create(b, loc, qBar, 1);

  Value span = sub(end(), begin());
  Value count = maxS(span, i32(0));
  std::optional<RegisterSplit> split = getRegisterSplit(config, target);
  auto ws = WarpSpecializeOp::create(
      b, loc, config.numWarps,
      split ? b.getI64IntegerAttr(split->producer) : IntegerAttr(),
      split ? b.getI64IntegerAttr(split->consumer) : IntegerAttr());

  // ---- Producer: one thread issues every TMA load ----
  {
    OpBuilder::InsertionGuard g(b);
    b.createBlock(&ws.getProducer());
    buildProducer(count);
  }

  // ---- MMA warps: the loop and everything after it ----
  Block *consumers = b.createBlock(&ws.getConsumers());
  b.setInsertionPointToStart(consumers);
  Value nonEmpty = cmp(arith::CmpIPredicate::sgt, end(), begin());
  auto guard = GuardOp::create(b, loc, nonEmpty, loop.getInit());
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(b.createBlock(&guard.getBody()));
    Value first = i32(0);
    BarrierWaitOp::create(b, loc, qBar, first, /*phase=*/i32(0));
    Value q = readQ();
    SmallVector<Value> state(loop.getInit());
    llvm::append_range(state, kStages);
    llvm::append_range(state, vStages);
    // Visit positions [0, end - full_end) are the masked blocks, then the
    // unmasked ones up to the count (or to end - full_begin, then the
    // left-edge masked ones).
    Value masked = sub(end(), loop.getFullEnd());
    state = buildConsumerLoop(i32(0), masked, q, state, /*masked=*/true);
    if (!hasLeftEdge()) {
      state = buildConsumerLoop(masked, count, q, state, /*masked=*/false);
    } else {
      Value unmaskedEnd = sub(end(), loop.getFullBegin());
      state = buildConsumerLoop(masked, unmaskedEnd, q, state, false);
      state = buildConsumerLoop(unmaskedEnd, count, q, state, true);
    }
    YieldOp::create(b, loc, ValueRange(state).take_front(numState()));
  }
  // Only the MMA warps hold O: whatever follows the loop in its block (the
  // epilogue) is theirs.
  SmallVector<Operation *> after;
  for (Operation *op = loop->getNextNode(); op; op = op->getNextNode()) {
    if (op->hasTrait<OpTrait::IsTerminator>())
      break;
    after.push_back(op);
  }
  for (Operation *op : after)
    op->moveBefore(consumers, consumers->end());
  loop.replaceAllUsesWith(guard.getResults());
  loop.erase();
}

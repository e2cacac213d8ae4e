//===- ScheduleKVLoop.cpp - fa4.kv_loop to a load schedule ----------------===//
//
// Turns each fa4.kv_loop into the program that feeds it, by the kind of its
// tile sources:
//
//  cp.async (#fa4.contiguous, #fa4.paged): every warp loads and computes.
//    guard(end > begin) {
//      load Q, K[end - 1] (and V[end - 1] with two stages); commit
//      [Q in registers: wait for Q, read its A fragments once]
//      for masked blocks, then unmasked blocks (body without fa4.mask):
//        1 stage:  wait; load V[n]; S ...; wait; load K[next]; softmax ... P V
//        2 stages: wait; load K[next], V[next] into the other stage; body
//    }
//
//  TMA (#fa4.tma, ScheduleKVLoopTMA.cpp): a producer warp group and MMA
//  warps.
//    barriers full[s], empty[s], q_full
//    warp_specialize producer {
//      TMA Q; for each block i: wait empty[i % S] (from round 1), arm
//      full[i % S] with the tile bytes, TMA K[n], V[n]
//    } consumers {
//      guard(end > begin) { wait q_full; for masked, unmasked blocks:
//        wait full[i % S]; body; arrive empty[i % S] }
//      everything after the loop (the epilogue): only the MMA warps hold O
//    }
//
// Blocks are visited from the last to the first; "next" is the next block
// of that order (n - 1 while n > begin), which the prefetch loads. A
// window's cp.async range visits its masked blocks first, the right edge's
// then the left edge's, each from the top down, and then the unmasked ones
// (buildCpAsyncEdgeLoop): there "next" follows that order. A `descending`
// window loop keeps the strict order instead, all its blocks in one masked
// loop.
//
// Block lists (block-sparse, cp.async): visit position p of [0, total),
// total = (mask_count + full_count) * r, is tile t = p % r of entry
// E = p / r of the lists (the mask list's entries, then the full list's),
// block listBlock(E, t) = entry * r + r - 1 - t:
//    guard(total > 0) {
//      load Q, K[listBlock(0, 0)] ...
//      for p in [0, mask_count * r): masked body
//      for p in [mask_count * r, total):
//        n in [full_begin, full_end) ? unmasked body : key limit only
//    }
//  carrying the block of p + 1 for the prefetch, and (E, t) of p + 2,
//  advanced by a compare (no division), whose entry is read a whole
//  iteration ahead of its use.
//
//===----------------------------------------------------------------------===//

#include "KVLoopScheduler.h"

#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/IR/FA4Target.h"
#include "fa4/Dialect/FA4/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir {
namespace fa4 {
#define GEN_PASS_DEF_FA4SCHEDULEKVLOOPPASS
#include "fa4/Dialect/FA4/Transforms/Passes.h.inc"
} // namespace fa4
} // namespace mlir

using namespace mlir;
using namespace mlir::fa4;

namespace {

/// The first op of the body that reads the running state: everything before
/// it computes the block's scores from (n, Q, K) alone. The one-stage
/// schedule waits for V and starts the next K there.
static Operation *findStateUpdate(KVLoopOp loop) {
  Block &body = loop.getBodyBlock();
  for (Operation &op : body.without_terminator())
    for (Value operand : op.getOperands())
      if (llvm::is_contained(loop.getStateArgs(), operand))
        return &op;
  return body.getTerminator();
}

/// Checks what the one-stage schedule relies on: K is read only before the
/// state update (its buffer is then refilled) and V only after it (it is
/// loaded under the scores).
static LogicalResult verifyOneStageBody(KVLoopOp loop, Operation *split) {
  for (Operation *user : loop.getKArg().getUsers())
    if (!user->isBeforeInBlock(split))
      return user->emitOpError()
             << "reads K after the running state is updated: the one-stage "
                "schedule refills K's buffer there";
  for (Operation *user : loop.getVArg().getUsers())
    if (user->isBeforeInBlock(split))
      return user->emitOpError()
             << "reads V before the running state is updated: the one-stage "
                "schedule loads V under the scores";
  return success();
}

} // namespace

using mlir::fa4::detail::BlockKind;
using mlir::fa4::detail::MaskUse;
using mlir::fa4::detail::Scheduler;

void Scheduler::createStageBuffers() {
  auto kType = cast<SmemTileType>(loop.getKArg().getType());
  auto vType = cast<SmemTileType>(loop.getVArg().getType());
  for (int64_t stage = 0; stage < stages; ++stage) {
    std::string suffix = stages > 1 ? std::to_string(stage) : "";
    kStages.push_back(
        SmemBufferOp::create(b, loc, kType, "K" + suffix, IntegerAttr()));
    vStages.push_back(
        SmemBufferOp::create(b, loc, vType, "V" + suffix, IntegerAttr()));
  }
}

void Scheduler::loadQ(Value barriers) {
  Value index = barriers ? i32(0) : Value();
  loop.getQSource().buildTileLoad(b, loc, loop.getQOperands(), loop.getQRow(),
                                  loop.getQTile(), barriers, index);
}

void Scheduler::loadK(Value row, Value dest, Value barriers, Value index) {
  loop.getKSource().buildTileLoad(b, loc, loop.getKOperands(), row, dest,
                                  barriers, index);
}

void Scheduler::loadV(Value row, Value dest, Value barriers, Value index) {
  loop.getVSource().buildTileLoad(b, loc, loop.getVOperands(), row, dest,
                                  barriers, index);
}

Value Scheduler::readQ() {
  auto frag = dyn_cast<AFragType>(loop.getQArg().getType());
  if (!frag)
    return loop.getQTile();
  return LoadAOp::create(b, loc, frag, loop.getQTile());
}

SmallVector<Value> Scheduler::cloneBody(Value n, Value q, Value k, Value v,
                                        ValueRange state, MaskUse use,
                                        function_ref<void()> atStateUpdate) {
  IRMapping map;
  map.map(loop.getBlockIndexArg(), n);
  map.map(loop.getQArg(), q);
  map.map(loop.getKArg(), k);
  map.map(loop.getVArg(), v);
  map.map(loop.getStateArgs(), state);
  Block &body = loop.getBodyBlock();
  for (Operation &op : body.without_terminator()) {
    if (&op == stateUpdate && atStateUpdate)
      atStateUpdate();
    auto mask = dyn_cast<MaskOp>(op);
    // An unmasked block needs no element mask: its scores pass through.
    if (mask && use == MaskUse::None) {
      map.map(mask.getResult(), map.lookup(mask.getScores()));
      continue;
    }
    // A full-list block at the key limit: the limit without the diagonals.
    if (mask && use == MaskUse::KeyLimit) {
      auto lookup = [&](Value v) {
        return v ? map.lookupOrDefault(v) : Value();
      };
      Value limited = MaskOp::create(
          b, mask.getLoc(), lookup(mask.getScores()), lookup(mask.getRow()),
          lookup(mask.getCol()), lookup(mask.getLimit()), Value(), Value(),
          lookup(mask.getGroup()));
      map.map(mask.getResult(), limited);
      continue;
    }
    b.clone(op, map);
  }
  SmallVector<Value> next;
  for (Value value : cast<YieldOp>(body.getTerminator()).getValues())
    next.push_back(map.lookupOrDefault(value));
  return next;
}

SmallVector<Value> Scheduler::buildBody(Value n, Value q, Value k, Value v,
                                        ValueRange state, BlockKind kind,
                                        function_ref<void()> atStateUpdate) {
  if (kind != BlockKind::FullList)
    return cloneBody(n, q, k, v, state,
                     kind == BlockKind::Masked ? MaskUse::Full : MaskUse::None,
                     atStateUpdate);
  Value lower = cmp(arith::CmpIPredicate::sge, n, loop.getFullBegin());
  Value upper = cmp(arith::CmpIPredicate::slt, n, loop.getFullEnd());
  Value inside = arith::AndIOp::create(b, loc, lower, upper);
  auto ifOp = scf::IfOp::create(b, loc, state.getTypes(), inside,
                                /*withElseRegion=*/true);
  for (auto [region, use] :
       {std::pair<Region *, MaskUse>{&ifOp.getThenRegion(), MaskUse::None},
        {&ifOp.getElseRegion(), MaskUse::KeyLimit}}) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(&region->front());
    SmallVector<Value> next = cloneBody(n, q, k, v, state, use, atStateUpdate);
    scf::YieldOp::create(b, loc, next);
  }
  return SmallVector<Value>(ifOp.getResults());
}

bool Scheduler::hasLeftEdge() {
  auto range = loop.getBegin().getDefiningOp<KVRangeOp>();
  return !range || range.hasLeftMaskedBlocks();
}

//===----------------------------------------------------------------------===//
// cp.async schedule
//===----------------------------------------------------------------------===//

SmallVector<Value> Scheduler::buildCpAsyncStep(Value n, Value kvRow,
                                               Value hasNext,
                                               function_ref<Value()> nextRow,
                                               ValueRange iter, Value q,
                                               BlockKind kind) {
  bool twoStages = stages == 2;
  size_t nState = numState();
  auto prefetch = [&](Value kBuf, Value vBuf) {
    scf::IfOp::create(b, loc, hasNext, [&](OpBuilder &, Location) {
      Value row = nextRow();
      loadK(row, kBuf);
      if (vBuf)
        loadV(row, vBuf);
      CommitLoadsOp::create(b, loc);
      scf::YieldOp::create(b, loc);
    });
  };
  // The stage this iteration reads; with two stages the buffers ping-pong
  // through the loop: (kCur, vCur, kNext, vNext).
  ValueRange state = iter.take_front(nState);
  Value kCur = twoStages ? iter[nState] : kStages[0];
  Value vCur = twoStages ? iter[nState + 1] : vStages[0];
  WaitLoadsOp::create(b, loc, /*pending=*/0);
  SmallVector<Value> out;
  if (twoStages) {
    // K[n] and V[n] have landed, and every warp is done with the previous
    // block, so its stage is free: prefetch the next block into it, under
    // this whole iteration. Indirect rows (a page table) would make every
    // warp wait for the table right after the barrier: their prefetch goes
    // after the scores instead, under the Q K^T MMAs in flight.
    auto prefetchNext = [&] { prefetch(iter[nState + 2], iter[nState + 3]); };
    if (loop.getKSource().isIndirect()) {
      out = buildBody(n, q, kCur, vCur, state, kind, prefetchNext);
    } else {
      prefetchNext();
      out = buildBody(n, q, kCur, vCur, state, kind);
    }
    out.append({iter[nState + 2], iter[nState + 3], kCur, vCur});
  } else {
    // K[n] (and, on the first block, Q) has landed, and every warp is done
    // reading V[n + 1]: V[n] may overwrite it under Q K^T. Once the scores
    // are computed, V[n] has landed and every warp is done reading K[n]:
    // the next K overwrites it under softmax and P V.
    loadV(kvRow, vCur);
    CommitLoadsOp::create(b, loc);
    out = buildBody(n, q, kCur, vCur, state, kind, [&] {
      WaitLoadsOp::create(b, loc, /*pending=*/0);
      prefetch(kCur, Value());
    });
  }
  return out;
}

SmallVector<Value> Scheduler::buildCpAsyncLoop(Value lo, Value hi, Value q,
                                               ValueRange init, bool masked,
                                               Value floor) {
  Value span = sub(hi, lo);
  Value count = maxS(span, i32(0));
  Value lower = i32(0);
  Value step = i32(1);
  auto forOp = scf::ForOp::create(
      b, loc, lower, count, step, init,
      [&](OpBuilder &, Location, Value iv, ValueRange iter) {
        // n = hi - 1 - iv: blocks run from the last to the first; the next
        // block of the visit order is n - 1 while n > floor.
        Value n = sub(sub(hi, i32(1)), iv);
        Value kvRow = mul(n, i32(tileN));
        Value hasNext = cmp(arith::CmpIPredicate::sgt, n, floor);
        SmallVector<Value> out = buildCpAsyncStep(
            n, kvRow, hasNext, [&] { return sub(kvRow, i32(tileN)); }, iter, q,
            masked ? BlockKind::Masked : BlockKind::Unmasked);
        scf::YieldOp::create(b, loc, out);
      });
  forOp->setAttr("fa4.loop", b.getStringAttr(masked ? "masked" : "unmasked"));
  return SmallVector<Value>(forOp.getResults());
}

SmallVector<Value> Scheduler::buildCpAsyncEdgeLoop(Value first, Value q,
                                                   ValueRange init) {
  // Inside the guard begin <= full_begin <= full_end <= end. The loop
  // carries its block n, from `first` down: below the right edge's lowest
  // block, full_end, comes the left edge's highest, full_begin - 1. Every
  // other value it needs (full_begin, full_end) is live across the
  // unmasked loop anyway; a position-to-block map would keep three more.
  Value fullBegin = loop.getFullBegin(), fullEnd = loop.getFullEnd();
  Value right = sub(end(), fullEnd);
  Value left = sub(fullBegin, begin());
  Value count = add(right, left);
  Value one = i32(1);
  SmallVector<Value> iterInit(init);
  iterInit.push_back(first);
  auto forOp = scf::ForOp::create(
      b, loc, i32(0), count, one, iterInit,
      [&](OpBuilder &, Location, Value p, ValueRange iter) {
        Value n = iter.back();
        Value kvRow = mul(n, i32(tileN));
        // (Each call takes at most one newly built value: C++ leaves the
        // order of argument evaluation to the compiler.)
        Value atGap = cmp(arith::CmpIPredicate::eq, n, fullEnd);
        Value gap = sub(fullEnd, fullBegin);
        Value zero = i32(0);
        Value skip = arith::SelectOp::create(b, loc, atGap, gap, zero);
        Value below = sub(n, one);
        Value nextN = sub(below, skip);
        Value p1 = add(p, one);
        Value moreEdges = cmp(arith::CmpIPredicate::slt, p1, count);
        Value anyUnmasked = cmp(arith::CmpIPredicate::sgt, fullEnd, fullBegin);
        Value hasNext = arith::OrIOp::create(b, loc, moreEdges, anyUnmasked);
        SmallVector<Value> out = buildCpAsyncStep(
            n, kvRow, hasNext,
            [&] {
              // After the last edge block: the unmasked loop's first.
              Value firstUnmasked = sub(fullEnd, one);
              Value next = arith::SelectOp::create(b, loc, moreEdges, nextN,
                                                   firstUnmasked);
              return mul(next, i32(tileN));
            },
            iter.drop_back(), q, BlockKind::Masked);
        out.push_back(nextN);
        scf::YieldOp::create(b, loc, out);
      });
  forOp->setAttr("fa4.loop", b.getStringAttr("masked"));
  return SmallVector<Value>(forOp.getResults().drop_back());
}

//===----------------------------------------------------------------------===//
// Block lists
//===----------------------------------------------------------------------===//

Value Scheduler::listBlock(Value entry, Value tile) {
  Value ratio = loop.getListRatio();
  Value maskCount = loop.getMaskCount();
  Value safe = arith::MinSIOp::create(b, loc, entry, lastEntry);
  Value inFull = cmp(arith::CmpIPredicate::sge, safe, maskCount);
  Value index =
      arith::SelectOp::create(b, loc, inFull, sub(safe, maskCount), safe);
  Value list = arith::SelectOp::create(b, loc, inFull, loop.getFullList(),
                                       loop.getMaskList());
  Type i32Type = b.getI32Type();
  Value ptr = LLVM::GEPOp::create(b, loc, list.getType(), i32Type, list,
                                  ValueRange{index});
  Value value = LLVM::LoadOp::create(b, loc, i32Type, ptr, /*alignment=*/4);
  // An entry past the keys (or negative, read unsigned) becomes the first
  // entry past them: its blocks hold no key and the mask empties them.
  Value clamped = arith::MinUIOp::create(b, loc, value, entryLimit);
  Value last = sub(ratio, i32(1));
  Value firstBlock = mul(clamped, ratio);
  return add(firstBlock, sub(last, tile));
}

std::pair<Value, Value> Scheduler::advance(Value entry, Value tile) {
  Value next = add(tile, i32(1));
  Value wrap = cmp(arith::CmpIPredicate::eq, next, loop.getListRatio());
  Value nextEntry =
      arith::SelectOp::create(b, loc, wrap, add(entry, i32(1)), entry);
  Value nextTile = arith::SelectOp::create(b, loc, wrap, i32(0), next);
  return {nextEntry, nextTile};
}

SmallVector<Value> Scheduler::buildCpAsyncListLoop(Value lo, Value hi, Value q,
                                                   ValueRange init,
                                                   BlockKind kind) {
  Value step = i32(1);
  auto forOp = scf::ForOp::create(
      b, loc, lo, maxS(hi, lo), step, init,
      [&](OpBuilder &, Location, Value p, ValueRange iter) {
        size_t size = iter.size();
        Value n = iter[size - 4], next = iter[size - 3];
        Value entry = iter[size - 2], tile = iter[size - 1];
        // The block after next: read now, used by the next iteration's
        // prefetch, so its load latency hides under this block.
        Value after = listBlock(entry, tile);
        auto [entryAfter, tileAfter] = advance(entry, tile);
        Value hasNext =
            cmp(arith::CmpIPredicate::slt, add(p, i32(1)), listTotal);
        Value kvRow = mul(n, i32(tileN));
        SmallVector<Value> out = buildCpAsyncStep(
            n, kvRow, hasNext, [&] { return mul(next, i32(tileN)); },
            iter.drop_back(4), q, kind);
        out.append({next, after, entryAfter, tileAfter});
        scf::YieldOp::create(b, loc, out);
      });
  forOp->setAttr(
      "fa4.loop",
      b.getStringAttr(kind == BlockKind::Masked ? "mask_list" : "full_list"));
  return SmallVector<Value>(forOp.getResults());
}

void Scheduler::buildCpAsync() {
  createStageBuffers();
  bool lists = loop.hasLists();
  if (lists) {
    Value ratio = loop.getListRatio();
    maskEnd = mul(loop.getMaskCount(), ratio);
    listTotal = add(maskEnd, mul(loop.getFullCount(), ratio));
    lastEntry = sub(add(loop.getMaskCount(), loop.getFullCount()), i32(1));
    entryLimit =
        arith::DivUIOp::create(b, loc, add(end(), sub(ratio, i32(1))), ratio);
  }
  // ---- Main loop, guarded: an empty key range (or empty lists) has
  // defined results ----
  Value nonEmpty = lists ? cmp(arith::CmpIPredicate::sgt, listTotal, i32(0))
                         : cmp(arith::CmpIPredicate::sgt, end(), begin());
  auto guard = GuardOp::create(b, loc, nonEmpty, loop.getInit());
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(b.createBlock(&guard.getBody()));
    // Prologue: Q and K[first] (and V[first] with two stages); the first
    // block is end - 1, the lists' first, or for a window whose right edge
    // has no masked block, full_begin - 1.
    bool qInRegisters = isa<AFragType>(loop.getQArg().getType());
    Value lastBlock, secondBlock, thirdEntry, thirdTile;
    if (lists) {
      Value zero = i32(0);
      lastBlock = listBlock(zero, zero);
      auto [entry1, tile1] = advance(zero, zero);
      secondBlock = listBlock(entry1, tile1);
      std::tie(thirdEntry, thirdTile) = advance(entry1, tile1);
    } else if (hasLeftEdge() && !loop.getDescending()) {
      // The edge loop's first block: end - 1, or full_begin - 1 when the
      // right edge is empty and the left is not.
      Value noRight = cmp(arith::CmpIPredicate::eq, end(), loop.getFullEnd());
      Value anyLeft =
          cmp(arith::CmpIPredicate::sgt, loop.getFullBegin(), begin());
      Value leftFirst = arith::AndIOp::create(b, loc, noRight, anyLeft);
      Value one = i32(1);
      Value leftTop = sub(loop.getFullBegin(), one);
      Value rightTop = sub(end(), one);
      lastBlock = arith::SelectOp::create(b, loc, leftFirst, leftTop, rightTop);
    } else {
      lastBlock = sub(end(), i32(1));
    }
    Value lastRow = mul(lastBlock, i32(tileN));
    loadQ(Value());
    if (qInRegisters)
      CommitLoadsOp::create(b, loc);
    loadK(lastRow, kStages[0]);
    if (stages == 2)
      loadV(lastRow, vStages[0]);
    CommitLoadsOp::create(b, loc);
    if (qInRegisters) {
      // Q has landed (K and V may still be in flight): read its fragments
      // once; every key block reuses them from registers.
      WaitLoadsOp::create(b, loc, /*pending=*/1);
    }
    Value q = readQ();
    SmallVector<Value> state(loop.getInit());
    if (stages == 2)
      state.append({kStages[0], vStages[0], kStages[1], vStages[1]});
    if (lists) {
      state.append({lastBlock, secondBlock, thirdEntry, thirdTile});
      state =
          buildCpAsyncListLoop(i32(0), maskEnd, q, state, BlockKind::Masked);
      state = buildCpAsyncListLoop(maskEnd, listTotal, q, state,
                                   BlockKind::FullList);
    } else if (hasLeftEdge() && !loop.getDescending()) {
      // Both edges in one masked loop, then the unmasked blocks: two copies
      // of the body, not three.
      state = buildCpAsyncEdgeLoop(lastBlock, q, state);
      state = buildCpAsyncLoop(loop.getFullBegin(), loop.getFullEnd(), q, state,
                               /*masked=*/false, loop.getFullBegin());
    } else if (hasLeftEdge()) {
      // Descending (S_dmask): every block from end - 1 down to begin in one
      // masked loop. The mask changes nothing in an unmasked block, and one
      // copy of the body compiles faster than the three an ordered split
      // into edges and middle would take; the kernel is a testing aid.
      state =
          buildCpAsyncLoop(begin(), end(), q, state, /*masked=*/true, begin());
    } else {
      state = buildCpAsyncLoop(loop.getFullEnd(), end(), q, state,
                               /*masked=*/true, begin());
      state = buildCpAsyncLoop(loop.getFullBegin(), loop.getFullEnd(), q, state,
                               /*masked=*/false, begin());
    }
    YieldOp::create(b, loc, ValueRange(state).take_front(numState()));
  }
  loop.replaceAllUsesWith(guard.getResults());
  loop.erase();
}

LogicalResult Scheduler::run() {
  stateUpdate = findStateUpdate(loop);
  if (stages == 1 && failed(verifyOneStageBody(loop, stateUpdate)))
    return failure();
  b.setInsertionPoint(loop);
  if (loop.isTma())
    buildWarpSpecialized();
  else
    buildCpAsync();
  return success();
}

namespace {

struct FA4ScheduleKVLoopPass final
    : fa4::impl::FA4ScheduleKVLoopPassBase<FA4ScheduleKVLoopPass> {
  using Base::Base;

  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    SmallVector<KVLoopOp> loops;
    module.walk([&](KVLoopOp loop) { loops.push_back(loop); });
    if (loops.empty())
      return;
    FailureOr<const TargetInfo *> target = getModuleTarget(module);
    if (failed(target))
      return signalPassFailure();
    for (KVLoopOp loop : loops)
      if (failed(Scheduler(loop, **target).run()))
        return signalPassFailure();
  }
};

} // namespace

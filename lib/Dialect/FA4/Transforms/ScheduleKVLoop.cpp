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
//  TMA (#fa4.tma): a producer warp group and MMA warps.
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
// of that order (n - 1 while n > begin), which the prefetch loads.
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

#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/IR/FA4Target.h"
#include "fa4/Dialect/FA4/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include <tuple>

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

/// Which element mask a cloned body applies.
enum class MaskUse {
  /// fa4.mask dropped: the block lies inside every edge.
  None,
  /// fa4.mask as written: the key limit and the diagonals.
  Full,
  /// fa4.mask without its diagonals: a full-list block at the key limit.
  KeyLimit,
};

/// How a loop chooses each block's mask.
enum class BlockKind {
  Masked,
  Unmasked,
  /// A full-list block: unmasked inside [full_begin, full_end), else the
  /// key limit only.
  FullList,
};

class Scheduler {
public:
  Scheduler(KVLoopOp loop, const TargetInfo &target)
      : loop(loop), b(loop), loc(loop.getLoc()), target(target),
        stages(static_cast<int64_t>(loop.getStages())),
        tileN(cast<SmemTileType>(loop.getKArg().getType()).getRows()) {}

  LogicalResult run();

private:
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value maxS(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value minS(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value remU(Value x, int64_t d) {
    return arith::RemUIOp::create(b, loc, x, i32(d));
  }
  Value divU(Value x, int64_t d) {
    return arith::DivUIOp::create(b, loc, x, i32(d));
  }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  /// `list` rotated left by one: the stage order of the next iteration.
  static SmallVector<Value> rotate(ValueRange list) {
    SmallVector<Value> out(list.drop_front());
    out.push_back(list.front());
    return out;
  }
  Value begin() { return loop.getBegin(); }
  Value end() { return loop.getEnd(); }
  size_t numState() { return loop.getInit().size(); }

  // ---- Common ----
  void createStageBuffers();
  void loadQ(Value barriers);
  void loadK(Value row, Value dest, Value barriers = {}, Value index = {});
  void loadV(Value row, Value dest, Value barriers = {}, Value index = {});
  /// Q as the body reads it: the shared-memory tile, or its A fragments.
  Value readQ();
  /// Clones the body for block `n` with tiles `k`, `v` and `state`, its
  /// fa4.mask as `use` says; runs `atStateUpdate` before the first op that
  /// reads the state. Returns the next state.
  SmallVector<Value> cloneBody(Value n, Value q, Value k, Value v,
                               ValueRange state, MaskUse use,
                               function_ref<void()> atStateUpdate = {});
  /// The body for block `n` of a loop of `kind`: a full-list block chooses
  /// its mask by n in an scf.if, both branches with `atStateUpdate`.
  SmallVector<Value> buildBody(Value n, Value q, Value k, Value v,
                               ValueRange state, BlockKind kind,
                               function_ref<void()> atStateUpdate = {});
  /// The (masked, unmasked[, masked]) block ranges of the visit order, as
  /// (lo, hi, masked): blocks hi - 1 down to lo.
  SmallVector<std::tuple<Value, Value, bool>> getPhases();

  // ---- cp.async ----
  void buildCpAsync();
  /// One visit of block n (its first key row `kvRow`): waits, loads, the
  /// body, and when `hasNext` the prefetch of the next block, whose first
  /// row `nextRow` builds. `iter` is the state, then (two stages) the stage
  /// buffers; returns what the loop yields for them.
  SmallVector<Value> buildCpAsyncStep(Value n, Value kvRow, Value hasNext,
                                      function_ref<Value()> nextRow,
                                      ValueRange iter, Value q, BlockKind kind);
  SmallVector<Value> buildCpAsyncLoop(Value lo, Value hi, Value q,
                                      ValueRange init, bool masked);
  // ---- Block lists ----
  /// The block of tile `tile` of entry `entry` (over both lists; clamped
  /// to the last entry, so that a position past the lists reads inside
  /// them).
  Value listBlock(Value entry, Value tile);
  /// (entry, tile) of the next visit position.
  std::pair<Value, Value> advance(Value entry, Value tile);
  /// Positions [lo, hi) of the lists; `iter` ends with the blocks at
  /// positions lo and lo + 1 and the (entry, tile) of lo + 2.
  SmallVector<Value> buildCpAsyncListLoop(Value lo, Value hi, Value q,
                                          ValueRange init, BlockKind kind);
  // ---- TMA ----
  void buildWarpSpecialized();
  void buildProducer(Value count);
  SmallVector<Value> buildConsumerLoop(Value iBegin, Value iEnd, Value q,
                                       ValueRange init, bool masked);

  KVLoopOp loop;
  OpBuilder b;
  Location loc;
  const TargetInfo &target;
  int64_t stages, tileN;
  SmallVector<Value> kStages, vStages;
  Operation *stateUpdate = nullptr;
  // TMA: the full/empty barrier rings and Q's barrier.
  Value fullBars, emptyBars, qBar;
  // Block lists: positions in all, the mask list's, the last entry over
  // both lists, and the first entry past the keys (ceil(end / r)).
  Value listTotal, maskEnd, lastEntry, entryLimit;
};

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

SmallVector<std::tuple<Value, Value, bool>> Scheduler::getPhases() {
  SmallVector<std::tuple<Value, Value, bool>> phases = {
      {loop.getFullEnd(), end(), true},
      {loop.getFullBegin(), loop.getFullEnd(), false}};
  // A left window edge adds masked blocks below the unmasked ones.
  if (auto range = loop.getBegin().getDefiningOp<KVRangeOp>();
      !range || range.hasLeftMaskedBlocks())
    phases.push_back({begin(), loop.getFullBegin(), true});
  return phases;
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
                                               ValueRange init, bool masked) {
  Value span = sub(hi, lo);
  Value count = maxS(span, i32(0));
  Value lower = i32(0);
  Value step = i32(1);
  auto forOp = scf::ForOp::create(
      b, loc, lower, count, step, init,
      [&](OpBuilder &, Location, Value iv, ValueRange iter) {
        // n = hi - 1 - iv: blocks run from the last to the first; the next
        // block of the visit order is n - 1 while n > begin.
        Value n = sub(sub(hi, i32(1)), iv);
        Value kvRow = mul(n, i32(tileN));
        Value hasNext = cmp(arith::CmpIPredicate::sgt, n, begin());
        SmallVector<Value> out = buildCpAsyncStep(
            n, kvRow, hasNext, [&] { return sub(kvRow, i32(tileN)); }, iter, q,
            masked ? BlockKind::Masked : BlockKind::Unmasked);
        scf::YieldOp::create(b, loc, out);
      });
  forOp->setAttr("fa4.loop", b.getStringAttr(masked ? "masked" : "unmasked"));
  return SmallVector<Value>(forOp.getResults());
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
    // block is end - 1, or the lists' first.
    bool qInRegisters = isa<AFragType>(loop.getQArg().getType());
    Value lastBlock, secondBlock, thirdEntry, thirdTile;
    if (lists) {
      Value zero = i32(0);
      lastBlock = listBlock(zero, zero);
      auto [entry1, tile1] = advance(zero, zero);
      secondBlock = listBlock(entry1, tile1);
      std::tie(thirdEntry, thirdTile) = advance(entry1, tile1);
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
    } else {
      for (auto [lo, hi, masked] : getPhases())
        state = buildCpAsyncLoop(lo, hi, q, state, masked);
    }
    YieldOp::create(b, loc, ValueRange(state).take_front(numState()));
  }
  loop.replaceAllUsesWith(guard.getResults());
  loop.erase();
}

//===----------------------------------------------------------------------===//
// TMA warp-specialized schedule
//===----------------------------------------------------------------------===//

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
    SmallVector<std::tuple<Value, Value, bool>> phases = getPhases();
    state = buildConsumerLoop(i32(0), masked, q, state, /*masked=*/true);
    if (phases.size() == 2) {
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

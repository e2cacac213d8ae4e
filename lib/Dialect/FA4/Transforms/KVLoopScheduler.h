//===- KVLoopScheduler.h - one fa4.kv_loop's load schedule ------*- C++ -*-===//
//
// fa4-schedule-kv-loop's builder: the cp.async schedules and the shared
// pieces (ScheduleKVLoop.cpp), and the TMA warp-specialized schedule
// (ScheduleKVLoopTMA.cpp). Private to lib/Dialect/FA4/Transforms.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_DIALECT_FA4_TRANSFORMS_KVLOOPSCHEDULER_H
#define FA4_LIB_DIALECT_FA4_TRANSFORMS_KVLOOPSCHEDULER_H

#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/IR/FA4Target.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

#include <tuple>

namespace mlir {
namespace fa4 {
namespace detail {

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
  /// Whether the range may have masked blocks below the unmasked ones (a
  /// window's left edge), [begin, full_begin).
  bool hasLeftEdge();

  // ---- cp.async ----
  void buildCpAsync();
  /// One visit of block n (its first key row `kvRow`): waits, loads, the
  /// body, and when `hasNext` the prefetch of the next block, whose first
  /// row `nextRow` builds. `iter` is the state, then (two stages) the stage
  /// buffers; returns what the loop yields for them.
  SmallVector<Value> buildCpAsyncStep(Value n, Value kvRow, Value hasNext,
                                      function_ref<Value()> nextRow,
                                      ValueRange iter, Value q, BlockKind kind);
  /// Blocks hi - 1 down to lo; each prefetches the next lower block while
  /// it is above `floor`, the visit's last block.
  SmallVector<Value> buildCpAsyncLoop(Value lo, Value hi, Value q,
                                      ValueRange init, bool masked,
                                      Value floor);
  /// A window's masked blocks in one loop, from block `first`: the right
  /// edge's [full_end, end), then the left edge's [begin, full_begin), each
  /// from the top down; the last prefetches the unmasked blocks' first,
  /// full_end - 1.
  SmallVector<Value> buildCpAsyncEdgeLoop(Value first, Value q,
                                          ValueRange init);
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

} // namespace detail
} // namespace fa4
} // namespace mlir

#endif // FA4_LIB_DIALECT_FA4_TRANSFORMS_KVLOOPSCHEDULER_H

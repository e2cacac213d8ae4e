//===- TileAttention.cpp - fa4.attention to the block-level program -------===//
//
// Rewrites each fa4.attention definition into a gpu.module with one kernel.
// CTA (m_block, head, batch) owns queries [m_block * Mt, (m_block + 1) * Mt)
// and walks the key blocks n = n_max - 1 down to n_min with an online
// softmax; the blocks that need a mask (sequence edge, causal diagonal) come
// first, in their own loop:
//
//   O = 0, m = -inf, l = 0
//   if n_max > n_min:                          (fa4.guard, else O=0, -inf, 0)
//     for each key block n:  S = Q K[n]^T; [mask S]
//                            P, m, l, corr = online_softmax(S, m, l)
//                            O = O * corr + P V[n]
//   O, LSE = finalize(O, m, l); store O; store LSE if requested
//
// Two schedules feed K and V:
//  - cp.async: every warp loads and computes; one or two K/V stages, loads
//    waited on with cp.async groups and CTA barriers.
//  - TMA (warp-specialized): one producer warp issues TMA loads of Q and of
//    K/V through a ring of stages; the MMA warps wait on `full` mbarriers
//    and release stages on `empty` mbarriers.
// Every static feature is decided here in C++ while building, before any
// dynamic control flow exists.
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
#include "mlir/IR/BuiltinOps.h"

namespace mlir {
namespace fa4 {
#define GEN_PASS_DEF_FA4TILEATTENTIONPASS
#include "fa4/Dialect/FA4/Transforms/Passes.h.inc"
} // namespace fa4
} // namespace mlir

using namespace mlir;
using namespace mlir::fa4;

namespace {

//===----------------------------------------------------------------------===//
// Kernel ABI
//===----------------------------------------------------------------------===//

/// The kind of one kernel parameter.
enum class ParamKind { GlobalPtr, I32, I64, F32, TensorMap };

/// One kernel parameter: its name is the contract with the runtime, which
/// packs arguments by these names in this order (read back from the emitted
/// metadata, never from a list kept by hand).
struct ParamSpec {
  const char *name;
  ParamKind kind;
  /// Only kernels of the TMA load path take it.
  bool tmaOnly = false;
};

/// The forward kernel's parameters, in order. The only place they are
/// listed: the gpu.func signature and the `fa4.abi` attribute (and so the
/// metadata) are both built from it.
constexpr ParamSpec kForwardParams[] = {
    {"q", ParamKind::GlobalPtr},
    {"k", ParamKind::GlobalPtr},
    {"v", ParamKind::GlobalPtr},
    {"o", ParamKind::GlobalPtr},
    {"lse", ParamKind::GlobalPtr},
    {"seqlen_q", ParamKind::I32},
    {"seqlen_k", ParamKind::I32},
    {"head_ratio", ParamKind::I32},
    {"q_batch_stride", ParamKind::I64},
    {"q_head_stride", ParamKind::I64},
    {"q_row_stride", ParamKind::I32},
    {"k_batch_stride", ParamKind::I64},
    {"k_head_stride", ParamKind::I64},
    {"k_row_stride", ParamKind::I32},
    {"v_batch_stride", ParamKind::I64},
    {"v_head_stride", ParamKind::I64},
    {"v_row_stride", ParamKind::I32},
    {"o_batch_stride", ParamKind::I64},
    {"o_head_stride", ParamKind::I64},
    {"o_row_stride", ParamKind::I32},
    {"lse_batch_stride", ParamKind::I64},
    {"lse_head_stride", ParamKind::I64},
    {"softmax_scale", ParamKind::F32},
    // CUtensorMaps by value (128 B, grid constants): 4-D views of Q, K, V as
    // (head_dim, seq, head, batch), boxes of one swizzle chunk x tile rows.
    {"q_tma", ParamKind::TensorMap, /*tmaOnly=*/true},
    {"k_tma", ParamKind::TensorMap, /*tmaOnly=*/true},
    {"v_tma", ParamKind::TensorMap, /*tmaOnly=*/true},
};

/// The parameters of a kernel of the given load path, in order.
static SmallVector<ParamSpec> getParams(bool tma) {
  SmallVector<ParamSpec> params;
  for (const ParamSpec &spec : kForwardParams)
    if (tma || !spec.tmaOnly)
      params.push_back(spec);
  return params;
}

/// Kernel arguments by name.
class KernelArgs {
public:
  KernelArgs(gpu::GPUFuncOp func, ArrayRef<ParamSpec> params) {
    for (auto [spec, arg] : llvm::zip(params, func.getArguments()))
      args[spec.name] = arg;
  }
  Value operator[](StringRef name) const {
    auto it = args.find(name);
    assert(it != args.end() && "unknown kernel parameter");
    return it->second;
  }

private:
  llvm::StringMap<Value> args;
};

//===----------------------------------------------------------------------===//
// Block-program builder
//===----------------------------------------------------------------------===//

/// Builds the body of one forward kernel.
class ForwardBuilder {
public:
  ForwardBuilder(OpBuilder &b, Location loc, AttentionOp def,
                 const KernelConfig &config, const TargetInfo &target,
                 gpu::GPUFuncOp func, ArrayRef<ParamSpec> params)
      : b(b), loc(loc), def(def), config(config), target(target),
        args(func, params) {}

  void build();

private:
  // ---- Small arithmetic helpers (i32 unless named otherwise) ----
  // Each creates an op; a call never takes two of them as arguments (their
  // evaluation order is unspecified in C++, so the IR would depend on the
  // host compiler).
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }
  Value f32(double v) {
    return arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                          APFloat(static_cast<float>(v)));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value minS(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value maxS(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value remU(Value x, int64_t d) {
    return arith::RemUIOp::create(b, loc, x, i32(d));
  }
  Value divU(Value x, int64_t d) {
    return arith::DivUIOp::create(b, loc, x, i32(d));
  }
  Value ceilDiv(Value x, int64_t d) {
    return arith::CeilDivSIOp::create(b, loc, x, i32(d));
  }
  Value floorDiv(Value x, int64_t d) {
    return arith::FloorDivSIOp::create(b, loc, x, i32(d));
  }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value blockId(gpu::Dimension dim) {
    Value id = gpu::BlockIdOp::create(b, loc, dim);
    return arith::IndexCastUIOp::create(b, loc, b.getI32Type(), id);
  }
  Value gridDim(gpu::Dimension dim) {
    Value n = gpu::GridDimOp::create(b, loc, dim);
    return arith::IndexCastUIOp::create(b, loc, b.getI32Type(), n);
  }
  /// `ptr + batch * batchStride + head * headStride` elements, in 64 bits.
  Value headBase(StringRef tensor, Type elementType, Value batch, Value head);
  /// `%list` rotated left by one: the stage order of the next iteration.
  static SmallVector<Value> rotate(ValueRange list) {
    SmallVector<Value> out(list.drop_front());
    out.push_back(list.front());
    return out;
  }

  /// The common prologue: coordinates, key-block range, running state.
  void buildPrologue();
  /// One key block of the math: S, mask, softmax, O update.
  SmallVector<Value> buildBlockMath(Value n, Value kTile, Value vTile,
                                    ValueRange state, bool masked);
  /// The epilogue: normalize, store O and (if requested) the LSE.
  void buildEpilogue(Value o, Value m, Value l);

  // ---- cp.async: all warps load and compute ----
  void buildCpAsync();
  SmallVector<Value> buildCpAsyncLoop(Value lo, Value hi, ValueRange init,
                                      bool masked);

  // ---- TMA: a producer warp group and MMA warps ----
  void buildWarpSpecialized();
  SmallVector<Value> buildConsumerLoop(Value iBegin, Value iEnd,
                                       ValueRange init, bool masked);
  void buildProducer(Value count);

  OpBuilder &b;
  Location loc;
  AttentionOp def;
  KernelConfig config;
  const TargetInfo &target;
  KernelArgs args;

  // Set by buildPrologue().
  Value mBlock, head, batch, kvHead;
  Value qBase, kBase, vBase, oBase;
  Value qRow0, causalOffset, nMin, nMax, nMaskMin, scaleLog2;
  Value o0, m0, l0;
  AccTileType accO, accS;
  RowStatsType rows;
  // Shared memory: Q and, per stage, K and V.
  Value sQ;
  SmallVector<Value> kStages, vStages;
  /// Q as the loops read it: sQ, or its A fragments held in registers.
  Value qOperand;
  // TMA: the full/empty barrier rings and Q's barrier.
  Value fullBars, emptyBars, qBar;
};

Value ForwardBuilder::headBase(StringRef tensor, Type elementType, Value batch,
                               Value head) {
  Type i64 = b.getI64Type();
  Value b64 = arith::ExtUIOp::create(b, loc, i64, batch);
  Value h64 = arith::ExtUIOp::create(b, loc, i64, head);
  std::string name = tensor.str();
  Value batchOffset =
      arith::MulIOp::create(b, loc, b64, args[name + "_batch_stride"]);
  Value headOffset =
      arith::MulIOp::create(b, loc, h64, args[name + "_head_stride"]);
  Value offset = arith::AddIOp::create(b, loc, batchOffset, headOffset);
  return LLVM::GEPOp::create(b, loc, args[name].getType(), elementType,
                             args[name], ValueRange{offset});
}

void ForwardBuilder::buildPrologue() {
  MLIRContext *ctx = b.getContext();
  Type elementType = def.getElementType();
  int64_t d = def.getHeadDim(), dv = def.getHeadDimV();
  int64_t tileM = config.tileM, tileN = config.tileN, warps = config.numWarps;
  bool causal = def.getCausal();

  // ---- Block coordinates ----
  // Causal CTAs run longest-first: m-blocks near the end see the most keys.
  mBlock = blockId(gpu::Dimension::x);
  if (causal) {
    Value numMBlocks = gridDim(gpu::Dimension::x);
    mBlock = sub(sub(numMBlocks, i32(1)), mBlock);
  }
  head = blockId(gpu::Dimension::y);
  batch = blockId(gpu::Dimension::z);
  // GQA/MQA: query head h reads key/value head h / (Hq / Hkv).
  kvHead = arith::DivUIOp::create(b, loc, head, args["head_ratio"]);
  qBase = headBase("q", elementType, batch, head);
  kBase = headBase("k", elementType, batch, kvHead);
  vBase = headBase("v", elementType, batch, kvHead);
  oBase = headBase("o", elementType, batch, head);

  Value seqlenQ = args["seqlen_q"], seqlenK = args["seqlen_k"];
  qRow0 = mul(mBlock, i32(tileM));
  // Bottom-right aligned causal mask: key k is visible to query q iff
  // k <= q + (Sk - Sq).
  causalOffset = sub(seqlenK, seqlenQ);

  // ---- Key-block range ----
  // n_max = ceil(Sk / Nt), and with causal at most
  //         ceil(((m_block + 1) * Mt + Sk - Sq) / Nt), the last block any
  //         row of this m-block sees (<= 0 when no row sees a key).
  Value numKeyBlocks = ceilDiv(seqlenK, tileN);
  nMax = numKeyBlocks;
  nMin = i32(0);
  if (causal)
    nMax = minS(nMax, ceilDiv(add(add(qRow0, i32(tileM)), causalOffset), tileN));
  // n_mask_min: blocks at or above it need a mask. The ragged last block
  // needs the sequence mask; with causal, block n reaches past the first
  // row's last key L = q0 + Sk - Sq iff (n + 1) * Nt - 1 > L, i.e.
  // n >= floor((L + 1) / Nt); later rows see more, so blocks below are
  // fully visible to every row.
  Value edge = arith::RemSIOp::create(b, loc, seqlenK, i32(tileN));
  Value hasEdge = cmp(arith::CmpIPredicate::ne, edge, i32(0));
  nMaskMin = arith::SelectOp::create(b, loc, hasEdge,
                                     sub(numKeyBlocks, i32(1)), numKeyBlocks);
  if (causal) {
    Value firstRowLimit = add(qRow0, causalOffset);
    Value firstMasked = floorDiv(add(firstRowLimit, i32(1)), tileN);
    nMaskMin = minS(nMaskMin, maxS(firstMasked, i32(0)));
  }
  nMaskMin = maxS(minS(nMaskMin, nMax), nMin);

  // ---- Shared memory, owned by this scope ----
  auto tile = [&](int64_t r, int64_t c) {
    return SmemTileType::get(ctx, r, c, elementType);
  };
  sQ = SmemBufferOp::create(b, loc, tile(tileM, d), "Q", IntegerAttr());
  for (int64_t stage = 0; stage < config.numStages; ++stage) {
    std::string suffix = config.numStages > 1 ? std::to_string(stage) : "";
    kStages.push_back(SmemBufferOp::create(b, loc, tile(tileN, d),
                                           "K" + suffix, IntegerAttr()));
    vStages.push_back(SmemBufferOp::create(b, loc, tile(tileN, dv),
                                           "V" + suffix, IntegerAttr()));
  }

  // ---- Running state: O = 0, m = -inf, l = 0 ----
  accO = AccTileType::get(ctx, tileM, dv, b.getF32Type(), warps);
  accS = AccTileType::get(ctx, tileM, tileN, b.getF32Type(), warps);
  rows = RowStatsType::get(ctx, tileM, warps);
  o0 = SplatOp::create(b, loc, accO, f32(0.0));
  m0 = SplatOp::create(b, loc, rows,
                       f32(-std::numeric_limits<double>::infinity()));
  l0 = SplatOp::create(b, loc, rows, f32(0.0));
  // softmax(scale * S) computed with exp2: fold log2(e) into the scale.
  scaleLog2 = arith::MulFOp::create(b, loc, args["softmax_scale"],
                                    f32(1.4426950408889634));
}

SmallVector<Value> ForwardBuilder::buildBlockMath(Value n, Value kTile,
                                                  Value vTile,
                                                  ValueRange state,
                                                  bool masked) {
  // ---- QK Matmul: S = Q K^T ----
  Value s = QKMmaOp::create(b, loc, accS, qOperand, kTile);
  if (masked)
    s = MaskOp::create(b, loc, s, qRow0, mul(n, i32(config.tileN)),
                       args["seqlen_k"],
                       def.getCausal() ? causalOffset : Value());
  // ---- Online Softmax ----
  // m' = max(m, rowmax(S)); P = exp2(S*s - m'*s);
  // corr = exp2((m - m')*s); l' = l*corr + rowsum(P)
  auto softmax =
      OnlineSoftmaxOp::create(b, loc, s, state[1], state[2], scaleLog2);
  // ---- PV Matmul: O = O * corr + P V, P packed in registers ----
  Value o = RescaleOp::create(b, loc, state[0], softmax.getCorrection());
  auto pType = AFragType::get(b.getContext(), config.tileM, config.tileN,
                              def.getElementType(), config.numWarps);
  Value p = PackAOp::create(b, loc, pType, softmax.getProbs());
  o = PVMmaOp::create(b, loc, p, vTile, o);
  return {o, softmax.getNewMax(), softmax.getNewSum()};
}

void ForwardBuilder::buildEpilogue(Value o, Value m, Value l) {
  // ---- Epilogue: O = O / l, LSE = (m * s + log2(l)) * ln 2 ----
  Value seqlenQ = args["seqlen_q"];
  auto final = FinalizeOp::create(b, loc, o, m, l, scaleLog2);
  StoreTileOp::create(b, loc, final.getOut(), oBase, qRow0, seqlenQ,
                      args["o_row_stride"], def.getElementType());
  if (!def.getLse())
    return;
  // The LSE is optional at run time: a null pointer skips it.
  Value lse = args["lse"];
  Value null = LLVM::ZeroOp::create(b, loc, lse.getType());
  Value wanted =
      LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, lse, null);
  Value lseBase = headBase("lse", b.getF32Type(), batch, head);
  scf::IfOp::create(b, loc, wanted, [&](OpBuilder &, Location) {
    StoreRowsOp::create(b, loc, final.getLse(), lseBase, qRow0, seqlenQ);
    scf::YieldOp::create(b, loc);
  });
}

//===----------------------------------------------------------------------===//
// cp.async schedule
//===----------------------------------------------------------------------===//

SmallVector<Value> ForwardBuilder::buildCpAsyncLoop(Value lo, Value hi,
                                                    ValueRange init,
                                                    bool masked) {
  bool twoStages = config.numStages == 2;
  Value span = sub(hi, lo);
  Value count = maxS(span, i32(0));
  Value lower = i32(0);
  Value step = i32(1);
  auto loop = scf::ForOp::create(
      b, loc, lower, count, step, init,
      [&](OpBuilder &, Location, Value iv, ValueRange iter) {
        // n = hi - 1 - iv: blocks run from the last to the first.
        Value n = sub(sub(hi, i32(1)), iv);
        Value kvRow = mul(n, i32(config.tileN));
        Value seqlenK = args["seqlen_k"];
        Value hasNext = cmp(arith::CmpIPredicate::sgt, n, nMin);
        auto prefetch = [&](Value kBuf, Value vBuf) {
          scf::IfOp::create(b, loc, hasNext, [&](OpBuilder &, Location) {
            Value row = sub(kvRow, i32(config.tileN));
            LoadTileOp::create(b, loc, kBase, row, seqlenK,
                               args["k_row_stride"], kBuf);
            if (vBuf)
              LoadTileOp::create(b, loc, vBase, row, seqlenK,
                                 args["v_row_stride"], vBuf);
            CommitLoadsOp::create(b, loc);
            scf::YieldOp::create(b, loc);
          });
        };

        // The stage this iteration reads; with two stages the buffers
        // ping-pong through the loop: (kCur, vCur, kNext, vNext).
        Value kCur = twoStages ? iter[3] : kStages[0];
        Value vCur = twoStages ? iter[4] : vStages[0];
        WaitLoadsOp::create(b, loc, /*pending=*/0);
        if (twoStages) {
          // K[n] and V[n] have landed, and every warp is done with
          // iteration n + 1, so its stage is free: prefetch K[n - 1] and
          // V[n - 1] into it, under this whole iteration.
          prefetch(iter[5], iter[6]);
        } else {
          // K[n] (and, on the first block, Q) has landed, and every warp is
          // done reading V[n + 1]: V[n] may overwrite it under Q K^T.
          LoadTileOp::create(b, loc, vBase, kvRow, seqlenK,
                             args["v_row_stride"], vCur);
          CommitLoadsOp::create(b, loc);
        }
        SmallVector<Value> next;
        if (twoStages) {
          next = buildBlockMath(n, kCur, vCur, iter, masked);
          next.append({iter[5], iter[6], kCur, vCur});
        } else {
          // ---- QK Matmul, then the next K under the softmax and P V ----
          Value s = QKMmaOp::create(b, loc, accS, qOperand, kCur);
          if (masked)
            s = MaskOp::create(b, loc, s, qRow0, kvRow, seqlenK,
                               def.getCausal() ? causalOffset : Value());
          // V[n] has landed and every warp is done reading K[n].
          WaitLoadsOp::create(b, loc, /*pending=*/0);
          prefetch(kCur, Value());
          auto softmax = OnlineSoftmaxOp::create(b, loc, s, iter[1], iter[2],
                                                 scaleLog2);
          Value o =
              RescaleOp::create(b, loc, iter[0], softmax.getCorrection());
          auto pType = AFragType::get(b.getContext(), config.tileM,
                                      config.tileN, def.getElementType(),
                                      config.numWarps);
          Value p = PackAOp::create(b, loc, pType, softmax.getProbs());
          o = PVMmaOp::create(b, loc, p, vCur, o);
          next = {o, softmax.getNewMax(), softmax.getNewSum()};
        }
        scf::YieldOp::create(b, loc, next);
      });
  return SmallVector<Value>(loop.getResults());
}

void ForwardBuilder::buildCpAsync() {
  MLIRContext *ctx = b.getContext();
  Value seqlenQ = args["seqlen_q"], seqlenK = args["seqlen_k"];
  int64_t tileN = config.tileN;

  // ---- Main loop, guarded: an empty key range has defined results ----
  Value nonEmpty = cmp(arith::CmpIPredicate::sgt, nMax, nMin);
  auto guard = GuardOp::create(b, loc, nonEmpty, ValueRange{o0, m0, l0});
  {
    OpBuilder::InsertionGuard g(b);
    Block *body = b.createBlock(&guard.getBody());
    b.setInsertionPointToStart(body);
    // Prologue: Q and K[n_max - 1] (and V[n_max - 1] with two stages).
    Value lastBlock = sub(nMax, i32(1));
    Value lastRow = mul(lastBlock, i32(tileN));
    LoadTileOp::create(b, loc, qBase, qRow0, seqlenQ, args["q_row_stride"], sQ);
    if (config.qInRegisters)
      CommitLoadsOp::create(b, loc);
    LoadTileOp::create(b, loc, kBase, lastRow, seqlenK, args["k_row_stride"],
                       kStages[0]);
    if (config.numStages == 2)
      LoadTileOp::create(b, loc, vBase, lastRow, seqlenK,
                         args["v_row_stride"], vStages[0]);
    CommitLoadsOp::create(b, loc);
    qOperand = sQ;
    if (config.qInRegisters) {
      // Q has landed (K and V may still be in flight): read its fragments
      // once; every key block reuses them from registers.
      WaitLoadsOp::create(b, loc, /*pending=*/1);
      auto qType = AFragType::get(ctx, config.tileM, def.getHeadDim(),
                                  def.getElementType(), config.numWarps);
      qOperand = LoadAOp::create(b, loc, qType, sQ);
    }
    SmallVector<Value> state = {o0, m0, l0};
    if (config.numStages == 2)
      state.append({kStages[0], vStages[0], kStages[1], vStages[1]});
    state = buildCpAsyncLoop(nMaskMin, nMax, state, /*masked=*/true);
    state = buildCpAsyncLoop(nMin, nMaskMin, state, /*masked=*/false);
    YieldOp::create(b, loc, ValueRange(state).take_front(3));
  }
  buildEpilogue(guard.getResult(0), guard.getResult(1), guard.getResult(2));
}

//===----------------------------------------------------------------------===//
// TMA warp-specialized schedule
//===----------------------------------------------------------------------===//

SmallVector<Value> ForwardBuilder::buildConsumerLoop(Value iBegin, Value iEnd,
                                                     ValueRange init,
                                                     bool masked) {
  int64_t stages = config.numStages;
  Value upper = maxS(iEnd, iBegin);
  Value step = i32(1);
  auto loop = scf::ForOp::create(
      b, loc, iBegin, upper, step, init,
      [&](OpBuilder &, Location, Value i, ValueRange iter) {
        // Block n = n_max - 1 - i sits in stage i % S, in its round i / S.
        Value n = sub(sub(nMax, i32(1)), i);
        Value stage = remU(i, stages);
        Value parity = remU(divU(i, stages), 2);
        ValueRange ks = iter.slice(3, stages), vs = iter.slice(3 + stages,
                                                               stages);
        BarrierWaitOp::create(b, loc, fullBars, stage, parity);
        SmallVector<Value> next =
            buildBlockMath(n, ks.front(), vs.front(), iter, masked);
        // Every thread is done reading stage i % S: hand it back.
        BarrierArriveOp::create(b, loc, emptyBars, stage);
        llvm::append_range(next, rotate(ks));
        llvm::append_range(next, rotate(vs));
        scf::YieldOp::create(b, loc, next);
      });
  return SmallVector<Value>(loop.getResults());
}

void ForwardBuilder::buildProducer(Value count) {
  int64_t stages = config.numStages;
  int64_t elementBytes = def.getElementType().getIntOrFloatBitWidth() / 8;
  int64_t kvBytes = config.tileN * (def.getHeadDim() + def.getHeadDimV()) *
                    elementBytes;
  int64_t qBytes = config.tileM * def.getHeadDim() * elementBytes;
  Value nonEmpty = cmp(arith::CmpIPredicate::sgt, count, i32(0));
  scf::IfOp::create(b, loc, nonEmpty, [&](OpBuilder &, Location) {
    // Q once; it completes on its own barrier.
    BarrierArriveTxOp::create(b, loc, qBar, i32(0), qBytes);
    TmaLoadOp::create(b, loc, args["q_tma"], qRow0, head, batch, sQ, qBar,
                      i32(0));
    SmallVector<Value> init(kStages);
    llvm::append_range(init, vStages);
    Value lower = i32(0);
    Value step = i32(1);
    scf::ForOp::create(
        b, loc, lower, count, step, init,
        [&](OpBuilder &, Location, Value i, ValueRange iter) {
          Value n = sub(sub(nMax, i32(1)), i);
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
          Value row = mul(n, i32(config.tileN));
          TmaLoadOp::create(b, loc, args["k_tma"], row, kvHead, batch,
                            ks.front(), fullBars, stage);
          TmaLoadOp::create(b, loc, args["v_tma"], row, kvHead, batch,
                            vs.front(), fullBars, stage);
          SmallVector<Value> next = rotate(ks);
          llvm::append_range(next, rotate(vs));
          scf::YieldOp::create(b, loc, next);
        });
    scf::YieldOp::create(b, loc);
  });
}

void ForwardBuilder::buildWarpSpecialized() {
  MLIRContext *ctx = b.getContext();
  int64_t stages = config.numStages;
  // ---- Barriers: full (TMA -> MMA), empty (MMA -> TMA), Q ----
  fullBars = SmemBarriersOp::create(
      b, loc, MBarriersType::get(ctx, stages), "full", IntegerAttr());
  emptyBars = SmemBarriersOp::create(
      b, loc, MBarriersType::get(ctx, stages), "empty", IntegerAttr());
  qBar = SmemBarriersOp::create(b, loc, MBarriersType::get(ctx, 1), "q_full",
                                IntegerAttr());
  // A full barrier completes when the producer's arrive.expect_tx and the
  // TMA bytes are in; an empty one when every MMA thread has arrived.
  BarrierInitOp::create(b, loc, fullBars, 1);
  BarrierInitOp::create(b, loc, emptyBars, config.numThreads());
  BarrierInitOp::create(b, loc, qBar, 1);

  Value span = sub(nMax, nMin);
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

  // ---- MMA warps ----
  OpBuilder::InsertionGuard g(b);
  b.createBlock(&ws.getConsumers());
  Value nonEmpty = cmp(arith::CmpIPredicate::sgt, nMax, nMin);
  auto guard = GuardOp::create(b, loc, nonEmpty, ValueRange{o0, m0, l0});
  {
    OpBuilder::InsertionGuard g2(b);
    b.setInsertionPointToStart(b.createBlock(&guard.getBody()));
    Value first = i32(0);
    BarrierWaitOp::create(b, loc, qBar, first, /*phase=*/i32(0));
    qOperand = sQ;
    if (config.qInRegisters) {
      auto qType = AFragType::get(ctx, config.tileM, def.getHeadDim(),
                                  def.getElementType(), config.numWarps);
      qOperand = LoadAOp::create(b, loc, qType, sQ);
    }
    SmallVector<Value> state = {o0, m0, l0};
    llvm::append_range(state, kStages);
    llvm::append_range(state, vStages);
    // Iterations [0, n_max - n_mask_min) are the masked blocks.
    Value masked = sub(nMax, nMaskMin);
    state = buildConsumerLoop(i32(0), masked, state, /*masked=*/true);
    state = buildConsumerLoop(masked, count, state, /*masked=*/false);
    YieldOp::create(b, loc, ValueRange(state).take_front(3));
  }
  buildEpilogue(guard.getResult(0), guard.getResult(1), guard.getResult(2));
}

void ForwardBuilder::build() {
  auto scope = ScopeOp::create(b, loc, "dense");
  b.createBlock(&scope.getBody());
  buildPrologue();
  if (config.warpSpecialized)
    buildWarpSpecialized();
  else
    buildCpAsync();
  b.setInsertionPointAfter(scope);
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

/// The kernel's compile-time description: its features and tile
/// configuration. fa4.variant resolves against it and the metadata carries it.
static DictionaryAttr buildFeatures(OpBuilder &b, AttentionOp def,
                                    const KernelConfig &config,
                                    const TargetInfo &target) {
  SmallVector<NamedAttribute> entries = {
      b.getNamedAttr("dtype", TypeAttr::get(def.getElementType())),
      b.getNamedAttr("head_dim", b.getI64IntegerAttr(def.getHeadDim())),
      b.getNamedAttr("head_dim_v", b.getI64IntegerAttr(def.getHeadDimV())),
      b.getNamedAttr("causal", b.getBoolAttr(def.getCausal())),
      b.getNamedAttr("gqa", b.getBoolAttr(def.getGqa())),
      b.getNamedAttr("lse", b.getBoolAttr(def.getLse())),
      b.getNamedAttr("varlen", b.getBoolAttr(def.getVarlen())),
      b.getNamedAttr("paged_kv", b.getBoolAttr(def.getPagedKv())),
      b.getNamedAttr("split_kv", b.getBoolAttr(def.getSplitKv())),
      b.getNamedAttr("dropout", b.getBoolAttr(def.getDropout())),
      b.getNamedAttr("block_sparse", b.getBoolAttr(def.getBlockSparse())),
      b.getNamedAttr("load_path",
                     b.getStringAttr(stringifyLoadPath(def.getLoadPath()))),
      b.getNamedAttr("tile_m", b.getI64IntegerAttr(config.tileM)),
      b.getNamedAttr("tile_n", b.getI64IntegerAttr(config.tileN)),
      b.getNamedAttr("num_warps", b.getI64IntegerAttr(config.numWarps)),
      b.getNamedAttr("num_stages", b.getI64IntegerAttr(config.numStages)),
      b.getNamedAttr("q_in_registers", b.getBoolAttr(config.qInRegisters)),
      b.getNamedAttr("target", b.getStringAttr(target.cpu)),
  };
  return b.getDictionaryAttr(entries);
}

/// What the runtime needs to encode each tensor-map parameter: the tensor it
/// views and the box (tile rows x one swizzle chunk of columns).
static DictionaryAttr buildTensorMaps(OpBuilder &b, AttentionOp def,
                                      const KernelConfig &config) {
  auto entry = [&](StringRef param, StringRef tensor, int64_t rows,
                   int64_t cols) {
    int64_t chunk = cols % 64 == 0 ? 64 : 32;
    int64_t elementBytes = def.getElementType().getIntOrFloatBitWidth() / 8;
    return b.getNamedAttr(
        param, b.getDictionaryAttr({
                   b.getNamedAttr("tensor", b.getStringAttr(tensor)),
                   b.getNamedAttr("box_rows", b.getI64IntegerAttr(rows)),
                   b.getNamedAttr("box_cols", b.getI64IntegerAttr(chunk)),
                   b.getNamedAttr("swizzle",
                                  b.getI64IntegerAttr(chunk * elementBytes)),
               }));
  };
  return b.getDictionaryAttr(
      {entry("q_tma", "q", config.tileM, def.getHeadDim()),
       entry("k_tma", "k", config.tileN, def.getHeadDim()),
       entry("v_tma", "v", config.tileN, def.getHeadDimV())});
}

struct FA4TileAttentionPass final
    : fa4::impl::FA4TileAttentionPassBase<FA4TileAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<Chip> parsed = parseChip(chip);
    if (!parsed) {
      getOperation().emitError() << "fa4-tile-attention: unknown chip '"
                                 << chip << "' (sm_120a, sm_121a, sm_90)";
      return signalPassFailure();
    }
    const TargetInfo &target = getTargetInfo(*parsed);

    SmallVector<AttentionOp> defs(getOperation().getOps<AttentionOp>());
    for (AttentionOp def : defs) {
      if (def.getTarget() && *def.getTarget() != *parsed) {
        def.emitOpError() << "is pinned to "
                          << stringifyChip(*def.getTarget())
                          << " but is being compiled for " << target.cpu;
        return signalPassFailure();
      }
      KernelConfig config = chooseKernelConfig(def, target);
      if (std::string problem = checkKernelConfig(def, config, target);
          !problem.empty()) {
        def.emitOpError() << problem;
        return signalPassFailure();
      }
      tile(def, config, target);
    }
  }

  /// Replaces `def` with a gpu.module holding its kernel.
  void tile(AttentionOp def, const KernelConfig &config,
            const TargetInfo &target) {
    OpBuilder b(def);
    Location loc = def.getLoc();
    MLIRContext *ctx = b.getContext();

    auto module = gpu::GPUModuleOp::create(b, loc, def.getSymName());
    b.setInsertionPointToStart(module.getBody());

    SmallVector<ParamSpec> params = getParams(config.warpSpecialized);
    SmallVector<Type> paramTypes;
    SmallVector<Attribute> paramNames;
    for (const ParamSpec &spec : params) {
      switch (spec.kind) {
      case ParamKind::GlobalPtr:
        paramTypes.push_back(LLVM::LLVMPointerType::get(ctx, 1));
        break;
      case ParamKind::TensorMap:
        // A generic pointer to the by-value parameter (fa4-emit-ptx marks
        // it byval / grid_constant on the final llvm.func).
        paramTypes.push_back(LLVM::LLVMPointerType::get(ctx, 0));
        break;
      case ParamKind::I32:
        paramTypes.push_back(b.getI32Type());
        break;
      case ParamKind::I64:
        paramTypes.push_back(b.getI64Type());
        break;
      case ParamKind::F32:
        paramTypes.push_back(b.getF32Type());
        break;
      }
      paramNames.push_back(b.getStringAttr(spec.name));
    }
    auto func = gpu::GPUFuncOp::create(b, loc, def.getSymName(),
                                       b.getFunctionType(paramTypes, {}));
    func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
    int32_t threads = static_cast<int32_t>(config.numCtaThreads());
    func.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr({threads, 1, 1}));
    func->setAttr("fa4.abi", b.getArrayAttr(paramNames));
    func->setAttr("fa4.features", buildFeatures(b, def, config, target));
    if (config.warpSpecialized)
      func->setAttr("fa4.tensor_maps", buildTensorMaps(b, def, config));
    // Registers at entry: every thread of the CTA must fit one SM. A
    // warp-specialized kernel states its cap even at 255: without one, ptxas
    // aims a 256-thread CTA at 128 registers (two CTAs per SM) and the
    // 4-MMA-warp D = 96 kernel spilled; with `.maxnreg 255` it takes 147.
    int64_t cap = getRegisterCap(config, target);
    if (cap < 255 || config.warpSpecialized)
      func->setAttr("nvvm.maxnreg",
                    b.getI32IntegerAttr(static_cast<int32_t>(cap)));

    b.setInsertionPointToStart(&func.getBody().front());
    ForwardBuilder(b, loc, def, config, target, func, params).build();
    gpu::ReturnOp::create(b, loc);
    def.erase();
  }
};

} // namespace

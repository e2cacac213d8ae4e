//===- TileAttention.cpp - fa4.attention to the block-level program -------===//
//
// Rewrites each fa4.attention definition into a gpu.module with one kernel.
// The kernel is the FlashAttention-2 schedule on SM120 tiles:
//
//   CTA (m_block, head, batch) owns queries [m_block * Mt, (m_block+1) * Mt).
//   O = 0, m = -inf, l = 0
//   if n_max > n_min:                         (fa4.guard, else O=0, -inf, 0)
//     load Q, load K[n_max - 1]
//     for n = n_max - 1 down to n_mask_min:   (masked: edge, causal diagonal)
//       wait K[n]; load V[n]; S = Q K^T; mask S; wait V[n]; load K[n-1]
//       P, m, l, corr = online_softmax(S, m, l); O = O * corr + P V
//     for n = n_mask_min - 1 down to n_min:   (the same, unmasked)
//   O, LSE = finalize(O, m, l); store O; store LSE if requested
//
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
enum class ParamKind { GlobalPtr, I32, I64, F32 };

/// One kernel parameter: its name is the contract with the runtime, which
/// packs arguments by these names in this order (read back from the emitted
/// metadata, never from a list kept by hand).
struct ParamSpec {
  const char *name;
  ParamKind kind;
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
};

/// Kernel arguments by name.
class KernelArgs {
public:
  KernelArgs(gpu::GPUFuncOp func) {
    for (auto [spec, arg] : llvm::zip(kForwardParams, func.getArguments()))
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
                 const KernelConfig &config, gpu::GPUFuncOp func)
      : b(b), loc(loc), def(def), config(config), args(func) {}

  void build();

private:
  // ---- Small arithmetic helpers (i32 unless named otherwise) ----
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

  /// Emits one loop over key blocks [lo, hi), walked from hi - 1 down to lo.
  SmallVector<Value> buildKeyLoop(Value lo, Value hi, ValueRange init,
                                  bool masked);

  OpBuilder &b;
  Location loc;
  AttentionOp def;
  KernelConfig config;
  KernelArgs args;

  // Values shared by the loops, set by build().
  Value qBase, kBase, vBase, nMin, qRow0, scaleLog2, causalOffset;
  Value sQ, sK, sV;
  /// Q as the loops read it: sQ, or its A fragments held in registers.
  Value qOperand;
};

Value ForwardBuilder::headBase(StringRef tensor, Type elementType, Value batch,
                               Value head) {
  Type i64 = b.getI64Type();
  Value b64 = arith::ExtUIOp::create(b, loc, i64, batch);
  Value h64 = arith::ExtUIOp::create(b, loc, i64, head);
  std::string name = tensor.str();
  Value offset = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, b64, args[name + "_batch_stride"]),
      arith::MulIOp::create(b, loc, h64, args[name + "_head_stride"]));
  return LLVM::GEPOp::create(b, loc, args[name].getType(), elementType,
                             args[name], ValueRange{offset});
}

SmallVector<Value> ForwardBuilder::buildKeyLoop(Value lo, Value hi,
                                                ValueRange init, bool masked) {
  bool twoStages = config.numStages == 2;
  Value count = maxS(sub(hi, lo), i32(0));
  auto loop = scf::ForOp::create(
      b, loc, i32(0), count, i32(1), init,
      [&](OpBuilder &, Location, Value iv, ValueRange iter) {
        // n = hi - 1 - iv: blocks run from the last to the first, so the
        // masked blocks (sequence edge, causal diagonal) come first.
        Value n = sub(sub(hi, i32(1)), iv);
        Value kvRow = mul(n, i32(config.tileN));
        Value seqlenK = args["seqlen_k"];
        Value hasNext = cmp(arith::CmpIPredicate::sgt, n, nMin);
        auto prefetch = [&](Value kBuf, Value vBuf, bool withV) {
          scf::IfOp::create(b, loc, hasNext, [&](OpBuilder &, Location) {
            Value row = sub(kvRow, i32(config.tileN));
            LoadTileOp::create(b, loc, kBase, row, seqlenK,
                               args["k_row_stride"], kBuf);
            if (withV)
              LoadTileOp::create(b, loc, vBase, row, seqlenK,
                                 args["v_row_stride"], vBuf);
            CommitLoadsOp::create(b, loc);
            scf::YieldOp::create(b, loc);
          });
        };

        // The stage this iteration reads; with two stages the buffers
        // ping-pong through the loop: (kCur, vCur, kNext, vNext).
        Value kCur = twoStages ? iter[3] : sK;
        Value vCur = twoStages ? iter[4] : sV;
        if (twoStages) {
          // K[n] and V[n] have landed, and every warp is done with
          // iteration n + 1, so its stage is free: prefetch K[n - 1] and
          // V[n - 1] into it, under this whole iteration.
          WaitLoadsOp::create(b, loc, /*pending=*/0);
          prefetch(iter[5], iter[6], /*withV=*/true);
        } else {
          // K[n] (and, on the first block, Q) has landed, and every warp is
          // done reading V[n + 1]: V[n] may overwrite it under Q K^T.
          WaitLoadsOp::create(b, loc, /*pending=*/0);
          LoadTileOp::create(b, loc, vBase, kvRow, seqlenK,
                             args["v_row_stride"], sV);
          CommitLoadsOp::create(b, loc);
        }

        // ---- QK Matmul: S = Q K^T ----
        auto accS = AccTileType::get(b.getContext(), config.tileM,
                                     config.tileN, b.getF32Type(),
                                     config.numWarps);
        Value s = QKMmaOp::create(b, loc, accS, qOperand, kCur);
        if (masked)
          s = MaskOp::create(b, loc, s, qRow0, kvRow, seqlenK,
                             def.getCausal() ? causalOffset : Value());

        if (!twoStages) {
          // V[n] has landed and every warp is done reading K[n]: prefetch
          // K[n - 1] under the softmax and P V.
          WaitLoadsOp::create(b, loc, /*pending=*/0);
          prefetch(sK, Value(), /*withV=*/false);
        }

        // ---- Online Softmax ----
        // m' = max(m, rowmax(S)); P = exp2(S*s - m'*s);
        // corr = exp2((m - m')*s); l' = l*corr + rowsum(P)
        auto softmax = OnlineSoftmaxOp::create(b, loc, s, iter[1], iter[2],
                                               scaleLog2);
        // ---- PV Matmul: O = O * corr + P V, P packed in registers ----
        Value o = RescaleOp::create(b, loc, iter[0], softmax.getCorrection());
        auto pType = AFragType::get(b.getContext(), config.tileM,
                                    config.tileN, def.getElementType(),
                                    config.numWarps);
        Value p = PackAOp::create(b, loc, pType, softmax.getProbs());
        o = PVMmaOp::create(b, loc, p, vCur, o);
        SmallVector<Value> next = {o, softmax.getNewMax(),
                                   softmax.getNewSum()};
        if (twoStages)
          next.append({iter[5], iter[6], kCur, vCur});
        scf::YieldOp::create(b, loc, next);
      });
  return SmallVector<Value>(loop.getResults());
}

void ForwardBuilder::build() {
  MLIRContext *ctx = b.getContext();
  Type elementType = def.getElementType();
  int64_t d = def.getHeadDim(), dv = def.getHeadDimV();
  int64_t tileM = config.tileM, tileN = config.tileN, warps = config.numWarps;
  bool causal = def.getCausal();

  auto scope = ScopeOp::create(b, loc, "dense");
  b.createBlock(&scope.getBody());

  // ---- Block coordinates ----
  // Causal CTAs run longest-first: m-blocks near the end see the most keys.
  Value mBlock = blockId(gpu::Dimension::x);
  if (causal)
    mBlock = sub(sub(gridDim(gpu::Dimension::x), i32(1)), mBlock);
  Value head = blockId(gpu::Dimension::y);
  Value batch = blockId(gpu::Dimension::z);
  // GQA/MQA: query head h reads key/value head h / (Hq / Hkv).
  Value kvHead = arith::DivUIOp::create(b, loc, head, args["head_ratio"]);

  qBase = headBase("q", elementType, batch, head);
  kBase = headBase("k", elementType, batch, kvHead);
  vBase = headBase("v", elementType, batch, kvHead);
  Value oBase = headBase("o", elementType, batch, head);

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
  Value nMax = numKeyBlocks;
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
  Value nMaskMin = arith::SelectOp::create(b, loc, hasEdge,
                                           sub(numKeyBlocks, i32(1)),
                                           numKeyBlocks);
  if (causal)
    nMaskMin = minS(nMaskMin, maxS(floorDiv(add(add(qRow0, causalOffset),
                                                 i32(1)),
                                             tileN),
                                    i32(0)));
  nMaskMin = maxS(minS(nMaskMin, nMax), nMin);

  // ---- Shared memory, owned by this scope ----
  auto tile = [&](int64_t rows, int64_t cols) {
    return SmemTileType::get(ctx, rows, cols, elementType);
  };
  sQ = SmemBufferOp::create(b, loc, tile(tileM, d), "Q", IntegerAttr());
  SmallVector<Value> stages;
  for (int64_t stage = 0; stage < config.numStages; ++stage) {
    std::string suffix = config.numStages > 1 ? std::to_string(stage) : "";
    stages.push_back(SmemBufferOp::create(b, loc, tile(tileN, d),
                                          "K" + suffix, IntegerAttr()));
    stages.push_back(SmemBufferOp::create(b, loc, tile(tileN, dv),
                                          "V" + suffix, IntegerAttr()));
  }
  sK = stages[0];
  sV = stages[1];

  // ---- Running state: O = 0, m = -inf, l = 0 ----
  auto accO = AccTileType::get(ctx, tileM, dv, b.getF32Type(), warps);
  auto rows = RowStatsType::get(ctx, tileM, warps);
  Value o0 = SplatOp::create(b, loc, accO, f32(0.0));
  Value m0 = SplatOp::create(
      b, loc, rows, f32(-std::numeric_limits<double>::infinity()));
  Value l0 = SplatOp::create(b, loc, rows, f32(0.0));
  // softmax(scale * S) computed with exp2: fold log2(e) into the scale.
  scaleLog2 = arith::MulFOp::create(b, loc, args["softmax_scale"],
                                    f32(1.4426950408889634));

  // ---- Main loop, guarded: an empty key range has defined results ----
  Value nonEmpty = cmp(arith::CmpIPredicate::sgt, nMax, nMin);
  auto guard = GuardOp::create(b, loc, nonEmpty, ValueRange{o0, m0, l0});
  {
    OpBuilder::InsertionGuard g(b);
    Block *body = b.createBlock(&guard.getBody());
    b.setInsertionPointToStart(body);
    // Prologue: Q and K[n_max - 1] (and V[n_max - 1] with two stages).
    Value lastRow = mul(sub(nMax, i32(1)), i32(tileN));
    LoadTileOp::create(b, loc, qBase, qRow0, seqlenQ, args["q_row_stride"], sQ);
    if (config.qInRegisters)
      CommitLoadsOp::create(b, loc);
    LoadTileOp::create(b, loc, kBase, lastRow, seqlenK, args["k_row_stride"],
                       sK);
    if (config.numStages == 2)
      LoadTileOp::create(b, loc, vBase, lastRow, seqlenK,
                         args["v_row_stride"], sV);
    CommitLoadsOp::create(b, loc);
    qOperand = sQ;
    if (config.qInRegisters) {
      // Q has landed (K and V may still be in flight): read its fragments
      // once; every key block reuses them from registers.
      WaitLoadsOp::create(b, loc, /*pending=*/1);
      auto qType = AFragType::get(ctx, tileM, d, elementType, warps);
      qOperand = LoadAOp::create(b, loc, qType, sQ);
    }
    SmallVector<Value> state = {o0, m0, l0};
    if (config.numStages == 2)
      state.append(stages.begin(), stages.end());
    state = buildKeyLoop(nMaskMin, nMax, state, /*masked=*/true);
    state = buildKeyLoop(nMin, nMaskMin, state, /*masked=*/false);
    YieldOp::create(b, loc, ValueRange(state).take_front(3));
  }

  // ---- Epilogue: O = O / l, LSE = (m * s + log2(l)) * ln 2 ----
  auto final = FinalizeOp::create(b, loc, guard.getResult(0),
                                  guard.getResult(1), guard.getResult(2),
                                  scaleLog2);
  StoreTileOp::create(b, loc, final.getOut(), oBase, qRow0, seqlenQ,
                      args["o_row_stride"], elementType);
  if (def.getLse()) {
    // The LSE is optional at run time: a null pointer skips it.
    Value lse = args["lse"];
    Value null = LLVM::ZeroOp::create(b, loc, lse.getType());
    Value wanted = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, lse,
                                        null);
    Value lseBase = headBase("lse", b.getF32Type(), batch, head);
    scf::IfOp::create(b, loc, wanted, [&](OpBuilder &, Location) {
      StoreRowsOp::create(b, loc, final.getLse(), lseBase, qRow0, seqlenQ);
      scf::YieldOp::create(b, loc);
    });
  }
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

    SmallVector<Type> paramTypes;
    SmallVector<Attribute> paramNames;
    for (const ParamSpec &spec : kForwardParams) {
      switch (spec.kind) {
      case ParamKind::GlobalPtr:
        paramTypes.push_back(LLVM::LLVMPointerType::get(ctx, 1));
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
    int32_t threads = static_cast<int32_t>(config.numThreads());
    func.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr({threads, 1, 1}));
    func->setAttr("fa4.abi", b.getArrayAttr(paramNames));
    func->setAttr("fa4.features", buildFeatures(b, def, config, target));

    b.setInsertionPointToStart(&func.getBody().front());
    ForwardBuilder(b, loc, def, config, func).build();
    gpu::ReturnOp::create(b, loc);
    def.erase();
  }
};

} // namespace

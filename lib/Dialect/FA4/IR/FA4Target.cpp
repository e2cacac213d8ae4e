//===- FA4Target.cpp - target description and tile configuration ----------===//
//
// SM120 limits (RTX 50xx, RTX PRO 6000, DGX Spark) and the tile
// configurations fa4 builds within them.
//
//===----------------------------------------------------------------------===//

#include "fa4/Dialect/FA4/IR/FA4Target.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::fa4;

/// 99 KB: the per-block shared memory of SM120 and SM121.
static constexpr int64_t kSm120SmemPerBlock = 101376;
/// 64K 32-bit registers per SM on SM120, SM121 and SM90 alike.
static constexpr int64_t kRegistersPerSM = 65536;
/// Registers are allocated to warps four at a time on all three.
static constexpr int64_t kWarpAllocationGranularity = 4;
/// 255 registers per thread and 1024 threads per block on all three.
static constexpr int64_t kMaxRegistersPerThread = 255;
static constexpr int64_t kMaxThreadsPerBlock = 1024;

/// The limits all four targets share, with what sets them apart.
static TargetInfo makeTarget(Chip chip, llvm::StringRef cpu,
                             llvm::StringRef ptxFeatures, int capability,
                             bool hasSetMaxNReg) {
  return TargetInfo{chip,
                    cpu,
                    ptxFeatures,
                    capability,
                    kSm120SmemPerBlock,
                    kMaxRegistersPerThread,
                    kMaxThreadsPerBlock,
                    kRegistersPerSM,
                    kWarpAllocationGranularity,
                    hasSetMaxNReg};
}

const TargetInfo &fa4::getTargetInfo(Chip chip) {
  // PTX 8.7 is the first ISA with sm_120a, 8.8 the first with sm_121a;
  // sm_90 needs >= 8.6 for the CTA-only TMA form, so it shares 8.7.
  static const TargetInfo sm90 =
      makeTarget(Chip::sm_90, "sm_90", "+ptx87", 90, /*hasSetMaxNReg=*/false);
  static const TargetInfo sm120a =
      makeTarget(Chip::sm_120a, "sm_120a", "+ptx87", 120, true);
  static const TargetInfo sm121a =
      makeTarget(Chip::sm_121a, "sm_121a", "+ptx88", 121, true);
  static const TargetInfo sm90a =
      makeTarget(Chip::sm_90a, "sm_90a", "+ptx87", 90, true);
  switch (chip) {
  case Chip::sm_90:
    return sm90;
  case Chip::sm_120a:
    return sm120a;
  case Chip::sm_121a:
    return sm121a;
  case Chip::sm_90a:
    return sm90a;
  }
  llvm_unreachable("unknown chip");
}

const TargetLimits &fa4::getLimitsOfAnyTarget() {
  static const TargetLimits limits = [] {
    TargetLimits all{0, 0, 0};
    for (Chip chip :
         {Chip::sm_90, Chip::sm_90a, Chip::sm_120a, Chip::sm_121a}) {
      const TargetInfo &target = getTargetInfo(chip);
      all.maxWarps = std::max(all.maxWarps, target.maxThreadsPerBlock / 32);
      all.maxRegistersPerThread =
          std::max(all.maxRegistersPerThread, target.maxRegistersPerThread);
      all.maxSmemPerBlock = std::max(all.maxSmemPerBlock, target.smemPerBlock);
    }
    return all;
  }();
  return limits;
}

FailureOr<const TargetInfo *> fa4::getModuleTarget(Operation *op) {
  auto module = dyn_cast<gpu::GPUModuleOp>(op);
  if (!module)
    module = op->getParentOfType<gpu::GPUModuleOp>();
  if (!module)
    return op->emitError("is not inside a gpu.module, which names the target");
  NVVM::NVVMTargetAttr nvvm;
  if (ArrayAttr targets = module.getTargetsAttr())
    for (Attribute target : targets)
      if ((nvvm = dyn_cast<NVVM::NVVMTargetAttr>(target)))
        break;
  if (!nvvm)
    return module.emitError() << "gpu.module '" << module.getName()
                              << "' has no #nvvm.target naming its chip";
  std::optional<Chip> chip = parseChip(nvvm.getChip());
  if (!chip)
    return module.emitError() << "fa4 has no description of chip '"
                              << nvvm.getChip()
                              << "' (sm_120a, sm_121a, sm_90, sm_90a)";
  return &getTargetInfo(*chip);
}

std::optional<Chip> fa4::parseChip(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<Chip>>(name)
      .Cases({"sm_120a", "120", "sm120"}, Chip::sm_120a)
      .Cases({"sm_121a", "121", "sm121"}, Chip::sm_121a)
      .Cases({"sm_90", "90", "sm90"}, Chip::sm_90)
      .Case("sm_90a", Chip::sm_90a)
      .Default(std::nullopt);
}

int64_t fa4::getSmemBytes(const KernelConfig &config, int64_t headDim,
                          int64_t headDimV, int64_t elementBytes) {
  auto aligned = [](int64_t bytes) {
    return static_cast<int64_t>(llvm::alignTo(bytes, kSmemBufferAlignment));
  };
  int64_t q = aligned(config.tileM * headDim * elementBytes);
  int64_t k = aligned(config.tileN * headDim * elementBytes);
  int64_t v = aligned(config.tileN * headDimV * elementBytes);
  int64_t barriers =
      config.warpSpecialized ? kMBarrierBytes * (2 * config.numStages + 1) : 0;
  return q + config.numStages * (k + v) + barriers;
}

int64_t fa4::getRegisterCap(const KernelConfig &config,
                            const TargetInfo &target) {
  int64_t allocatedWarps = llvm::alignTo(config.numCtaThreads() / 32,
                                         target.warpAllocationGranularity);
  int64_t perThread = target.registersPerSM / (32 * allocatedWarps);
  perThread = std::min(perThread, target.maxRegistersPerThread);
  return perThread >= 255 ? 255 : perThread / 8 * 8;
}

std::optional<RegisterSplit>
fa4::getRegisterSplit(const KernelConfig &config, const TargetInfo &target) {
  if (!config.warpSpecialized || !target.hasSetMaxNReg)
    return std::nullopt;
  // setmaxnreg.inc only takes what setmaxnreg.dec gave back in the same
  // CTA. The producer warp group keeps 40 registers per thread and hands the
  // rest of its entry registers to the MMA warps, in multiples of 8
  // (12 warps: (168 - 40) * 128 / 256 = +64, i.e. 232).
  constexpr int64_t producer = 40;
  int64_t cap = getRegisterCap(config, target);
  int64_t released = (cap - producer) * 32 * KernelConfig::kProducerWarps;
  int64_t consumer = std::min<int64_t>(
      (cap + released / config.numThreads()) / 8 * 8, 255);
  if (consumer <= cap)
    return std::nullopt;
  return RegisterSplit{producer, consumer};
}

/// D > 128: the widest key tile whose stages fit the budget. The O
/// accumulators grow with Dv (128 registers per thread at 256) and Q's tile
/// with D (64 KB at 256), so the key tile shrinks instead:
///
///   D (Dv)      rows, warps   key tile, stages   Q + stages x (K + V)
///   160         128, 8        64, 1              40 + 40 = 80 KB
///   192         128, 8        64, 1              48 + 48 = 96 KB
///   192 (128)   128, 8        64, 1              48 + 40 = 88 KB
///   224         64, 4         32, 2              28 + 2 x 28 = 84 KB
///   256         64, 4         32, 2              32 + 2 x 32 = 96 KB
///
/// Above 192, 128 rows on eight warps leave 16 or 32 keys per tile (one
/// K/V fragment per MMA, the softmax reduced over 16 columns, a barrier
/// per 16 keys); 64 rows on four warps keep 32 keys with two stages and
/// measured faster on the H200 (bench/RESULTS.md, run 23: +25-30% at 256
/// over 128 x 16 with two stages, +1-15% at 224 over 128 x 32 with one),
/// spill-free on all three targets. (128 x 32 with one stage at 256 fits
/// too, but ptxas for sm_120a spills 8 to 64 bytes on its score variants.)
/// Q's fragments stay in registers while they fit beside the accumulators
/// (D <= 192), except with a window, whose two diagonals push the D = 192
/// kernels past 255 registers on sm_121a (4 to 20 bytes of spill), with
/// dropout, whose Philox state did the same on sm_120a (8 to 12 bytes), and
/// with block-sparse lists (the varlen D = 192 causal kernel spilled 56
/// bytes on sm_120a).
static KernelConfig chooseWideHeadConfig(AttentionOp op, KernelConfig config,
                                         const TargetInfo &target,
                                         int64_t elementBytes) {
  int64_t d = op.getHeadDim(), dv = op.getHeadDimV();
  if (std::max(d, dv) > 192 && !op.getNumWarps()) {
    config.numWarps = 4;
    config.tileM = 64;
  }
  for (int64_t keys : {64, 32, 16}) {
    config.tileN = keys;
    if (getSmemBytes(config, d, dv, elementBytes) <= target.smemPerBlock)
      break;
  }
  // A switchable kernel with dropout above D = 192: 32-key tiles. With one
  // stage 64 keys fit the budget, and beside a window, softcap, ALiBi and
  // Philox they spilled 1-2 KB; 64 x 32 with one stage takes 245-250
  // registers on sm_120a and sm_121a (two stages: 255 and 8 bytes of
  // spill on one target or the other).
  if (op.getSwitchable() && op.getDropout() && std::max(d, dv) > 192)
    config.tileN = std::min<int64_t>(config.tileN, 32);
  config.qInRegisters = op.getQInRegisters().value_or(
      d <= 192 && !op.getWindow() && !op.getDropout() && !op.getBlockSparse());
  return config;
}

/// KV-cache (decode) kernels: 64 query rows on four warps. Decode reads
/// each K/V block for a handful of query rows (Sq of 1-16, or one GQA
/// group), so the M tile sets the MMA work per byte of cache: 128 rows at
/// D = 128 are 128 flop/B, at the H200's measured mma.sync-to-copy ratio
/// (646 TFLOP/s over 4.2 TB/s = 154 flop/B) and past a GeForce SM120's
/// (f32 accumulation at half rate); 64 rows halve it. The widest key tile
/// whose stages fit, Q in registers up to D = 128.
static KernelConfig chooseDecodeConfig(AttentionOp op, KernelConfig config,
                                       const TargetInfo &target,
                                       int64_t elementBytes) {
  int64_t d = op.getHeadDim(), dv = op.getHeadDimV();
  if (!op.getNumWarps())
    config.numWarps = 4;
  config.tileM = 16 * config.numWarps;
  for (int64_t keys : {64, 32, 16}) {
    config.tileN = keys;
    if (getSmemBytes(config, d, dv, elementBytes) <= target.smemPerBlock)
      break;
  }
  // Above D = 192 the paged kernels with a window or ALiBi spilled 4 bytes
  // with 32-key tiles (window: sm_121a; ALiBi: sm_120a); 16-key tiles
  // assemble spill-free. (The contiguous window kernel is the other way
  // round: 16-key tiles spill, 32 do not.)
  if (op.getPagedKv() && (op.getWindow() || op.getAlibi()) &&
      std::max(d, dv) > 192)
    config.tileN = std::min<int64_t>(config.tileN, 16);
  config.qInRegisters = op.getQInRegisters().value_or(d <= 128);
  return config;
}

KernelConfig fa4::chooseKernelConfig(AttentionOp op, const TargetInfo &target) {
  KernelConfig config;
  config.numStages = static_cast<int64_t>(op.getNumStages());
  config.numWarps = op.getNumWarps() ? *op.getNumWarps() : 8;
  config.warpSpecialized = op.getLoadPath() == LoadPath::Tma;
  if (op.getTileM() && op.getTileN()) {
    config.tileM = static_cast<int64_t>(*op.getTileM());
    config.tileN = static_cast<int64_t>(*op.getTileN());
    config.qInRegisters = op.getQInRegisters().value_or(false);
    return config;
  }
  if (config.warpSpecialized) {
    // TMA: 128x64 tiles through a ring of `stages` K/V buffers (D = 128
    // with two stages: 96 KB + barriers), Q in shared memory: the sm_90
    // build has no setmaxnreg and its MMA warps live within the entry cap
    // of 168 registers (12 warps, 384 threads).
    config.tileM = 16 * config.numWarps;
    config.tileN = 64;
    config.qInRegisters = op.getQInRegisters().value_or(false);
    return config;
  }
  // Eight warps of 16 query rows unless the four-warp rule below applies:
  // with four warps of 32 rows, 128 x 128 tiles at D = 64 and 128 x 64 at
  // D = 128 hold 192 accumulators and ptxas spills (FA4's SM120 TMA kernel
  // made the same move, PR #2599).
  //
  // Measured on the H100 (bench/RESULTS.md, tuning of 2026-11-25), where
  // shared-memory bandwidth binds first: D <= 64 is fastest at 128x64 with
  // Q re-read from shared memory (128 registers, two CTAs per SM, also on
  // SM120 at 48 KB); above, a 128-key tile with Q's fragments kept in
  // registers halves the barriers per key and saves a ninth of the
  // ldmatrix traffic, whenever its stages fit the 99 KB budget.
  // The exceptions come from the work per score beyond the dense mask:
  // causal, a window (two diagonals), a softcap (tanh), ALiBi (a bias),
  // and dropout, which counts twice (Philox's state beside a 128-key S
  // tile spilled 12-48 bytes at D = 128 on sm_120a, causal or not).
  // With one of them, D = 128 with 128-key tiles keeps Q in shared memory:
  // causal's masked loop with Q's 32 fragment registers needs 255
  // registers and ptxas for sm_121a spills (sm_120a does not); a window, a
  // softcap or ALiBi spills on sm_120a too (8 to 48 bytes). Q in shared
  // memory costs ~4% on the H100's causal rows and assembles spill-free for
  // every target. With two of them (causal + softcap, causal + ALiBi) the
  // 128-key S tile itself is too much for the varlen kernel (40 bytes of
  // spill with Q in shared memory): D > 96 then takes 64-key tiles. With
  // 64-key tiles (also when two stages do not fit 128 keys: the paged
  // kernels) the S tile is half as large and Q fits in registers.
  int64_t d = op.getHeadDim();
  int64_t elementBytes = op.getElementType().getIntOrFloatBitWidth() / 8;
  int scoreWork = op.getCausal() + op.getWindow() + op.getSoftcap() +
                  op.getAlibi() + 2 * op.getDropout();
  if (op.getKvCache())
    return chooseDecodeConfig(op, config, target, elementBytes);
  config.tileM = 128;
  config.tileN = 64;
  // D <= 64 with dropout: 64 rows on four warps with 128-key tiles, Q in
  // shared memory. The 128 x 64 tile on eight warps needs 167-178
  // registers with Philox beside S (one CTA per SM where the plain kernel
  // runs two); 64 x 128 keeps the S tile per thread at 64 values, gives
  // each K/V fragment two m16 row groups and halves the barriers per key.
  // Measured on the H200 (bench/RESULTS.md, run 43): p = 0.1 costs 1.33-
  // 1.38x the plain kernel against 1.57-1.64x at 128 x 64 (FA2: 1.35x).
  // 236 to 246 registers, spill-free on all three targets.
  if (op.getDropout() && d <= 64 && !op.getNumWarps()) {
    config.numWarps = 4;
    config.tileM = 64;
    config.tileN = 128;
    if (getSmemBytes(config, d, op.getHeadDimV(), elementBytes) <=
        target.smemPerBlock) {
      config.qInRegisters = op.getQInRegisters().value_or(false);
      return config;
    }
    config.numWarps = 8;
    config.tileM = 128;
    config.tileN = 64;
  }
  // D = 64 and 96 with no score work beyond causal: four warps of 32 query
  // rows (two m16 row groups per warp), 64-key tiles, Q in shared memory.
  // Each K/V fragment that ldmatrix reads then feeds two mma.sync instead
  // of one, which halves the shared-memory traffic per MMA, the limit of
  // the 16-row warps (Nsight on the H200, s = 4k: shared pipe 74% -> 46% at
  // d = 64, 79% (TMA) -> 49% at d = 96; tensor pipe 47 -> 53%, 54 -> 57%).
  // S (64) and O (64 or 96) take 128 or 160 accumulators per thread;
  // 215-254 registers, spill-free on all three targets (with the
  // scalarized loop state and XOR-offset ldmatrix addresses that such
  // kernels get). Measured on the H200 (bench/RESULTS.md, runs 48-52),
  // against main's kernels in the same run: dense +8-13% at d = 64 (with
  // the definitions' two stages; one stage was 1-11 points slower) and
  // +0-22% at d = 96 against the TMA kernel; varlen +8-14% / +10-32%;
  // paged (page 64) +6-8% / +18-39% (s = 512-16k, causal and not).
  // Dropout keeps the eight-warp tiles at D = 96 (four warps spilled 20-148
  // bytes beside Philox's state; D <= 64 has its own tile above). At
  // D = 128 the 32-row warps hold 192 accumulators and ptxas spills
  // 100-250 bytes (run 48).
  //
  // The same four warps for D = 64 with one score modification (a window,
  // softcap or ALiBi, with or without causal) and for D = 96 with a window.
  // Measured on the H200 (run 54, dense, bf16, s = 1k-16k) against the
  // kernel the dispatch ran before: D = 64 +20-49% (eight 16-row warps),
  // D = 96 window +14-15% (the TMA kernel). D = 96 with a softcap or ALiBi
  // stays: 253-255 registers, spills (28 bytes for softcap in the sm_90
  // build, 8 for paged causal ALiBi on sm_120a, 4 for varlen causal
  // softcap) for 0-11% over TMA. Two modifications (the switchable
  // kernels) spilled 12 bytes at varlen D = 64.
  //
  // Block-sparse lists (plain or causal) too: the same 128 x 64 tile, so
  // the sparse block sizes the kernel accepts do not change; 238-255
  // registers, spill-free on both SM120 targets, dense and varlen; run 56,
  // dense, density 0.5: +16-23% at D = 64 and 96.
  bool causalOnly = scoreWork == static_cast<int>(op.getCausal());
  int mods = op.getWindow() + op.getSoftcap() + op.getAlibi();
  bool oneMod = mods == 1 && !op.getDropout() && !op.getBlockSparse() &&
                (d == 64 || (d == 96 && op.getWindow()));
  if (d >= 64 && d <= 96 && (causalOnly || oneMod) && !op.getNumWarps()) {
    KernelConfig rows32 = config;
    rows32.numWarps = 4;
    rows32.qInRegisters = op.getQInRegisters().value_or(false);
    if (getSmemBytes(rows32, d, op.getHeadDimV(), elementBytes) <=
        target.smemPerBlock)
      return rows32;
  }
  if (d > 128)
    return chooseWideHeadConfig(op, config, target, elementBytes);
  // Block-sparse: its list state and the full-list blocks' two bodies
  // beside a 128-key S tile spilled 44 bytes at D = 128 with Q's fragments
  // in registers, so D > 96 keeps Q in shared memory (below), and the
  // varlen kernels, 4 bytes even so (sm_120a), take 64-key tiles.
  bool sparseVarlen = op.getBlockSparse() && op.getVarlen();
  if (d > 64 && !(d > 96 && (scoreWork >= 2 || sparseVarlen))) {
    KernelConfig wide = config;
    wide.tileN = 128;
    if (getSmemBytes(wide, d, op.getHeadDimV(), elementBytes) <=
        target.smemPerBlock)
      config = wide;
  }
  bool busyWide =
      (scoreWork > 0 || op.getBlockSparse()) && d > 96 && config.tileN == 128;
  // A switchable kernel with dropout (a window, softcap, ALiBi and Philox
  // beside S) keeps Q in shared memory: with Q's fragments in registers the
  // varlen D = 128 kernel spilled 20 bytes on sm_120a; without, 245-251
  // registers and no spill at D = 96 and 128.
  bool crowded = op.getSwitchable() && op.getDropout();
  config.qInRegisters =
      op.getQInRegisters().value_or(d > 64 && !busyWide && !crowded);
  return config;
}

std::string fa4::checkKernelConfig(AttentionOp op, const KernelConfig &config,
                                   const TargetInfo &target) {
  int64_t d = op.getHeadDim(), dv = op.getHeadDimV();
  int64_t elementBytes = op.getElementType().getIntOrFloatBitWidth() / 8;
  auto str = [](int64_t v) { return std::to_string(v); };

  if (config.numWarps != 4 && config.numWarps != 8)
    return "warps must be 4 or 8, got " + str(config.numWarps);
  int64_t mPerCta = 16 * config.numWarps;
  if (config.tileM <= 0 || config.tileM % mPerCta != 0)
    return "tile m (" + str(config.tileM) +
           ") must be a positive multiple of 16 x warps (" + str(mPerCta) +
           ")";
  if (config.tileN <= 0 || config.tileN % 16 != 0)
    return "tile n (" + str(config.tileN) +
           ") must be a positive multiple of 16";
  // Registers held across the key loop: the S and O accumulators, plus
  // Q's packed A fragments when they stay in registers.
  int64_t accumulators =
      config.tileM * (config.tileN + dv) / config.numThreads() +
      (config.qInRegisters ? config.tileM * d / 2 / config.numThreads() : 0);
  if (accumulators > kMaxAccumulatorsPerThread)
    return "tile " + str(config.tileM) + "x" + str(config.tileN) +
           " with head_dim_v " + str(dv) + ", " + str(config.numWarps) +
           " warps" + (config.qInRegisters ? " and Q in registers" : "") +
           " needs " + str(accumulators) +
           " registers per thread for accumulators; at most " +
           str(kMaxAccumulatorsPerThread) + " of " +
           str(target.maxRegistersPerThread) + " can be";
  // TMA boxes are at most 256 rows; cp.async copies a tile chunk by chunk.
  if (config.warpSpecialized) {
    if (config.tileM > 256 || config.tileN > 256)
      return "a TMA box has at most 256 rows, the tile is " +
             str(config.tileM) + "x" + str(config.tileN);
  } else {
    for (auto [rows, cols, what] :
         {std::tuple<int64_t, int64_t, const char *>{config.tileM, d, "Q"},
          {config.tileN, d, "K"},
          {config.tileN, dv, "V"}}) {
      std::string problem =
          checkCpAsyncCopy(rows, cols, elementBytes, config.numThreads());
      if (!problem.empty())
        return std::string("the ") + what + " tile (" + str(rows) + "x" +
               str(cols) + ") " + problem;
    }
  }
  int64_t smem = getSmemBytes(config, d, dv, elementBytes);
  if (smem > target.smemPerBlock)
    return "tile configuration needs " + str(smem) +
           " B of shared memory; " + target.cpu.str() + " allows " +
           str(target.smemPerBlock) + " B per block";
  return {};
}

std::string fa4::checkCpAsyncCopy(int64_t rows, int64_t cols,
                                  int64_t elementBytes, int64_t threads) {
  auto str = [](int64_t v) { return std::to_string(v); };
  if (cols <= 0 || cols % 32 != 0)
    return "has " + str(cols) +
           " columns, not a multiple of 32 (64-byte swizzle chunks)";
  int64_t chunkCols = cols % 64 == 0 ? 64 : 32;
  int64_t unitsPerRow = chunkCols * elementBytes / 16;
  if (threads <= 0 || threads % unitsPerRow != 0)
    return "cannot be copied by " + str(threads) + " threads: not a multiple "
           "of the " + str(unitsPerRow) + " 16-byte units of a chunk row";
  int64_t rowsPerPass = threads / unitsPerRow;
  if (rowsPerPass % 8 != 0 || rows <= 0 || rows % 8 != 0 ||
      (rows > rowsPerPass && rows % rowsPerPass != 0))
    return "cannot be copied by " + str(threads) + " threads in passes of " +
           str(rowsPerPass) + " full rows";
  return {};
}

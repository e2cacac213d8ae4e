//===- FA4Target.h - target description and tile configuration --*- C++ -*-===//
//
// What fa4 knows about each GPU it generates code for, and how it turns a
// kernel definition plus a target into a tile configuration (tile sizes,
// warps, stages, shared-memory plan). The verifier and fa4-tile-attention
// share this, so the configuration that is checked is the one that is built.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_DIALECT_FA4_IR_FA4TARGET_H
#define FA4_DIALECT_FA4_IR_FA4TARGET_H

#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "llvm/ADT/StringRef.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mlir {
namespace fa4 {

/// Limits of one GPU target. All three targets share the SM120 per-block
/// budget: the sm_90 build exists to run the SM120 configuration on Hopper.
struct TargetInfo {
  Chip chip;
  /// LLVM NVPTX CPU name, also the PTX `.target`.
  llvm::StringRef cpu;
  /// LLVM NVPTX features: the PTX ISA version.
  llvm::StringRef ptxFeatures;
  /// Compute capability as major * 10 + minor.
  int computeCapability;
  /// Shared memory one block may use (dynamic + static), in bytes.
  int64_t smemPerBlock;
  /// Registers one thread may use.
  int64_t maxRegistersPerThread;
  /// Threads one block may have.
  int64_t maxThreadsPerBlock;
  /// The register file of one SM (32-bit registers).
  int64_t registersPerSM;
  /// Warps are given registers in groups of this many (the occupancy
  /// calculator's warp allocation granularity): a CTA of 9 warps is sized
  /// like 12.
  int64_t warpAllocationGranularity;
  /// Whether `setmaxnreg` exists (the arch-specific `a` targets).
  bool hasSetMaxNReg;
};

/// Returns the description of `chip`.
const TargetInfo &getTargetInfo(Chip chip);

/// The largest limits any described target has: the hard caps of
/// target-independent checks (the fa4 types' verifiers), so that no size a
/// type admits can overflow the arithmetic that plans or lowers it.
struct TargetLimits {
  /// Warps per block (maxThreadsPerBlock / 32).
  int64_t maxWarps;
  /// 32-bit registers one thread can address.
  int64_t maxRegistersPerThread;
  /// Bytes of shared memory one block can use.
  int64_t maxSmemPerBlock;
};
const TargetLimits &getLimitsOfAnyTarget();

/// The target of the gpu.module enclosing (or being) `op`: its
/// #nvvm.target's chip, as fa4-tile-attention attaches it. Emits an error on
/// `op` when there is none or fa4 has no description of it.
FailureOr<const TargetInfo *> getModuleTarget(Operation *op);

/// Parses "sm_120a" / "sm_121a" / "sm_90" (also "120", "121", "90").
std::optional<Chip> parseChip(llvm::StringRef name);

/// The tile configuration of one kernel on one target.
struct KernelConfig {
  int64_t tileM = 0;
  int64_t tileN = 0;
  int64_t numWarps = 0;
  int64_t numStages = 0;
  /// Keep Q's mma A fragments in registers for the whole key loop instead of
  /// re-reading them from shared memory for every key block.
  bool qInRegisters = false;
  /// The TMA path: a producer warp group (one warp issues TMA, three idle)
  /// feeds numWarps MMA warps. A whole group, because setmaxnreg is
  /// collective over a warp group: a group of one warp never completes it.
  bool warpSpecialized = false;
  static constexpr int64_t kProducerWarps = 4;

  /// MMA (consumer) threads.
  int64_t numThreads() const { return numWarps * 32; }
  /// Threads of the CTA, the producer warps included.
  int64_t numCtaThreads() const {
    return (numWarps + (warpSpecialized ? kProducerWarps : 0)) * 32;
  }
};

/// Largest number of f32 accumulators (S tile + O tile) one thread may hold:
/// more leaves too few of the 255 registers for fragments and addresses.
constexpr int64_t kMaxAccumulatorsPerThread = 192;

/// Alignment of every shared-memory buffer: a TMA box with 128-byte swizzle
/// needs 1024-byte aligned destinations, and cp.async uses the same layout.
constexpr int64_t kSmemBufferAlignment = 1024;

/// Size and alignment of one mbarrier (a 64-bit word in shared memory).
constexpr int64_t kMBarrierBytes = 8;

/// The suspend-time hint of each `mbarrier.try_wait.parity`, in ns: how long
/// the hardware may park a waiting thread before the try returns false and
/// the wait loop issues it again (a completing phase wakes the thread
/// sooner). 10 ms, the value CUTLASS's ClusterBarrier::wait uses
/// (0x989680): a waiting warp sleeps instead of spinning on the barrier.
constexpr int64_t kTryWaitSuspendHintNs = 10000000;

/// Why `threads` threads cannot copy a rows x cols tile of 16-bit elements
/// with 16-byte cp.async units, or an empty string if they can. The copy
/// goes chunk by chunk (64 or 32 columns); in a chunk of W units per row,
/// thread t copies unit t % W of rows t / W + i * (T / W), so T must be a
/// multiple of W, the pass height T / W a multiple of 8 (every row a thread
/// copies then has the same swizzle) and the rows a multiple of the pass
/// height, or a multiple of 8 below it (one pass by the threads whose row
/// is in the tile). The tile configuration check and the load lowering both use
/// it.
std::string checkCpAsyncCopy(int64_t rows, int64_t cols, int64_t elementBytes,
                             int64_t threads);

/// Shared memory the block program needs: Q, then `stages` K and V tiles,
/// each aligned to kSmemBufferAlignment, then (TMA path) the mbarriers:
/// full and empty per stage plus one for Q, 8 bytes each.
int64_t getSmemBytes(const KernelConfig &config, int64_t headDim,
                     int64_t headDimV, int64_t elementBytes);

/// Registers per thread at kernel entry: what lets every thread of the CTA
/// launch in one SM's register file (a multiple of 8, at most 255 and never
/// above the target's limit).
int64_t getRegisterCap(const KernelConfig &config, const TargetInfo &target);

/// setmaxnreg counts of the warp-specialized kernel: the producer warp
/// drops to `producer`, the MMA warps raise to `consumer`.
struct RegisterSplit {
  int64_t producer;
  int64_t consumer;
};
std::optional<RegisterSplit> getRegisterSplit(const KernelConfig &config,
                                              const TargetInfo &target);

/// The configuration `op` asks for, or, where it pins none, the one fa4
/// chooses for `target` (FA4's SM120 choices: 128x128 for D <= 64,
/// 128x64 above, 4 warps). Does not check it; see verifyKernelConfig.
KernelConfig chooseKernelConfig(AttentionOp op, const TargetInfo &target);

/// Checks that `config` can be built for `op` on `target`; returns a message
/// naming the first violated limit, or an empty string.
std::string checkKernelConfig(AttentionOp op, const KernelConfig &config,
                              const TargetInfo &target);

} // namespace fa4
} // namespace mlir

#endif // FA4_DIALECT_FA4_IR_FA4TARGET_H

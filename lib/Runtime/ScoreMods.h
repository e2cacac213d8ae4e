//===- ScoreMods.h - masks and score modifications of a request -*- C++ -*-===//
//
// FlashAttention-2's causal flag, window_size and softcap, as one resolved
// request: which kernel features they select (causal, window, softcap) and
// the run-time values those kernels take. Shared by every entry point.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_RUNTIME_SCOREMODS_H
#define FA4_LIB_RUNTIME_SCOREMODS_H

#include "KernelRegistry.h"
#include "fa4/Runtime/fa4.h"

#include <cstdint>

namespace fa4::rt {

struct Launch;

/// The mask and score modification a call asks for, resolved.
struct ScoreMods {
  /// Kernel features.
  bool causal = false;
  bool window = false;
  bool softcap = false;
  bool alibi = false;
  bool sink = false;
  bool dropout = false;
  /// S_dmask (s_dmask): the dense and varlen kernels that write it.
  bool returnProbs = false;
  /// Block-sparse lists (resolveBlockSparse), set when mask_block_cnt is.
  bool blockSparse = false;
  /// A switchable kernel (makeSwitchable): window, softcap and ALiBi all
  /// present, each off for its neutral value.
  bool switchable = false;
  /// Whether the call's positions fit the window kernel's 32-bit diagonals
  /// (resolveScoreMods), so causal may run as the window (-1, 0).
  bool windowFits = true;
  fa4_block_sparse sparse = {};
  /// The window kernel's sizes (-1: unbounded) and the softcap value.
  int32_t windowLeft = -1, windowRight = -1;
  float softcapValue = 0;
  const float *alibiSlopes = nullptr;
  int64_t alibiBatchStride = 0;
  const float *sinks = nullptr;
  /// Dropout: the 8-bit keep threshold round((1 - p) * 256), 1 / (1 - p), and
  /// the Philox seed and counter offset.
  uint32_t dropoutKeep = 256;
  float dropoutScale = 1;
  uint64_t dropoutSeed = 0, dropoutOffset = 0;
  /// Or the device pointer the kernel reads the offset from.
  const uint64_t *dropoutOffsetPtr = nullptr;

  /// Adds the features to a kernel request.
  void addFeatures(FeatureMap &request) const;
  /// Rewrites a request with a window or causal mask, softcap or ALiBi
  /// (dropout or not) into the switchable kernel's: causal becomes the
  /// window (-1, 0), an absent window (-1, -1), an absent softcap 0 and
  /// absent slopes null. The fallback for combinations without a kernel of
  /// their own (S_dmask included); false (and `this` unchanged) where no
  /// switchable kernel applies: sinks, block-sparse lists, none of the
  /// three, or a causal call too long for the window kernel's diagonals.
  bool makeSwitchable();
  /// Sets the parameters the selected kernel takes for them.
  void setArgs(Launch &launch) const;
  /// "causal", "window (l, r)", "softcap" ... for messages.
  std::string describe() const;
};

/// Resolves FlashAttention-2's arguments: `local` says whether the window
/// sizes are read (-1 is unbounded; smaller values are an error); causal
/// makes the right size 0; a window (-1, 0) is causal; a left size of at
/// least `knownSeqlenK` (when >= 0: the dense entry's seqlen_k) is
/// unbounded. `maxPositions` bounds seqlen_q + seqlen_k of every sequence:
/// the window kernel computes diagonals in 32 bits. softcap 0 is off;
/// otherwise it must be positive and finite, with scale / softcap and
/// softcap * log2(e) finite normal floats.
fa4_status resolveScoreMods(int causal, int local, int64_t windowLeft,
                            int64_t windowRight, float softcap, float scale,
                            int64_t knownSeqlenK, int64_t maxPositions,
                            ScoreMods &mods);

/// Adds ALiBi (`slopes` NULL: none) to `mods`: slopes 4-byte aligned, the
/// batch stride >= 0 and every index b * stride + h (b < batch,
/// h < nheads) in 32 bits.
fa4_status resolveAlibi(const float *slopes, int64_t batchStride,
                        int64_t batch, int64_t nheads, ScoreMods &mods);

/// Adds dropout (`p` 0: none) to `mods`: p finite in [0, 1); `offsetPtr`
/// (null: `offset`) 8-byte aligned, and only with p > 0.
fa4_status resolveDropout(float p, uint64_t seed, uint64_t offset,
                          const uint64_t *offsetPtr, ScoreMods &mods);

/// Adds block-sparse lists (`sparse.mask_block_cnt` NULL: none) to `mods`:
/// pointers 4-byte aligned, heads 1 or `nheads`, block sizes positive,
/// at least cdiv(`maxSeqlenQ`, block_m) q-blocks, capacities positive.
fa4_status resolveBlockSparse(const fa4_block_sparse &sparse, int64_t nheads,
                              int64_t maxSeqlenQ, ScoreMods &mods);

/// The block-sparse parameters of the selected kernel (launch.kernel): its
/// tile must divide the sparse block sizes.
fa4_status setBlockSparseArgs(const ScoreMods &mods, Launch &launch);

/// Adds learnable sinks (`sinks` NULL: none) to `mods`: 4-byte aligned.
fa4_status resolveSink(const float *sinks, ScoreMods &mods);

} // namespace fa4::rt

#endif // FA4_LIB_RUNTIME_SCOREMODS_H

//===- KVCache.h - fa4_kvcache_fwd's validation and preparation -*- C++ -*-===//
//
// The KV-cache entry point's steps, declared for the runtime's unit test:
// validate (no driver), the request, the split count rule, the workspace
// size, and the two launches (attention, combine).
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_RUNTIME_KVCACHE_H
#define FA4_LIB_RUNTIME_KVCACHE_H

#include "Entry.h"

namespace fa4::rt {

/// The most splits one call may use (the combine kernel reads them all).
constexpr int kMaxSplits = 128;

/// fa4_kvcache_fwd's tensors, validated, and the kernel's view: with
/// `packGqa`, Sq' = seqlen_q * qGroup rows over nheads_kv heads.
struct KVCacheTensors {
  /// q is what attention reads (with rotary: the rotated copy in the
  /// workspace, contiguous); qIn the caller's.
  Tensor q, k, v, o, qIn;
  /// Appending: the new keys and values.
  Tensor kNew, vNew;
  bool append = false;
  bool rotary = false;
  int64_t lseStrides[3];
  bool paged = false;
  int64_t tableStride = 0;
  /// Key rows per batch entry: seqlen_cache, or max_pages * page_size.
  int64_t capacity = 0;
  bool packGqa = false;
  int64_t qGroup = 1;
  int64_t viewSeqlenQ = 0;
  int64_t viewHeads = 0;
  float scale = 0;
  ScoreMods mods;
  bool empty = false;
  /// The caller's workspace (set by fa4_kvcache_fwd).
  const void *workspace = nullptr;
};

/// Checks every argument the host can see; touches no GPU.
fa4_status validateKVCache(const fa4_kvcache_params &p, KVCacheTensors &t);
/// The kernel's view of the queries from `t.mods`: GQA packing unless the
/// kernel has ALiBi (its slope is per query head), and the rows and heads
/// the grid covers. validateKVCache sets it; planKVCache sets it again after
/// a switch to the switchable kernel (ALiBi compiled in).
void setGqaView(const fa4_kvcache_params &p, KVCacheTensors &t);
/// The attention kernel's features.
FeatureMap getKVCacheRequest(const fa4_kvcache_params &p,
                             const KVCacheTensors &t);
/// The combine kernel in `attention`'s module, or null.
const KernelInfo *findCombineKernel(const KernelInfo &attention);
/// num_splits = 0's rule: `work` CTAs per split, `slots` CTAs resident on
/// the device, `keyBlocks` key blocks per m-block.
int chooseNumSplits(int64_t work, int64_t slots, int64_t keyBlocks);
/// Workspace bytes for `numSplits` (0 for one split).
uint64_t getKVCacheWorkspaceBytes(const fa4_kvcache_params &p,
                                  const KVCacheTensors &t, int numSplits);
/// Bytes of the rotated queries at the workspace's start (0 without
/// rotary), a multiple of 256.
uint64_t getRotatedQueryBytes(const fa4_kvcache_params &p,
                              const KVCacheTensors &t);
/// The append kernel's features.
FeatureMap getAppendRequest(const fa4_kvcache_params &p,
                            const KVCacheTensors &t);
/// Fills the append launch (new keys and values, rotary).
fa4_status prepareAppend(const fa4_kvcache_params &p, const KVCacheTensors &t,
                         const KernelInfo &kernel, Launch &launch);
/// Fills the attention launch.
fa4_status prepareKVCache(const fa4_kvcache_params &p, const KVCacheTensors &t,
                          const KernelInfo &kernel, int numSplits,
                          void *workspace, uint64_t workspaceBytes,
                          Launch &launch);
/// Fills the combine launch that follows `attention`.
fa4_status prepareCombine(const fa4_kvcache_params &p, const KVCacheTensors &t,
                          const KernelInfo &kernel, const Launch &attention,
                          Launch &launch);

} // namespace fa4::rt

#endif // FA4_LIB_RUNTIME_KVCACHE_H

//===- KVCache.cpp - fa4_kvcache_fwd: decode over a KV cache, split-KV ----===//
//
// FlashAttention-2's flash_attn_with_kvcache: dense queries against a
// contiguous or paged cache, with per-entry lengths, split-KV and the
// combine kernel. Validation touches no driver; the number of splits (when
// the caller leaves it to us) needs the device's SM count and the kernel's
// occupancy, and the workspace is the caller's. The parameters' validation
// is in KVCacheValidate.cpp.
//
//===----------------------------------------------------------------------===//

#include "KVCache.h"
#include "Status.h"

#include <algorithm>
#include <cmath>

using namespace fa4::rt;

void fa4::rt::setGqaView(const fa4_kvcache_params &p, KVCacheTensors &t) {
  int64_t group = p.nheads_q / p.nheads_kv;
  t.packGqa = group > 1 && !t.mods.alibi;
  t.qGroup = t.packGqa ? group : 1;
  t.viewSeqlenQ = p.seqlen_q * t.qGroup;
  t.viewHeads = p.nheads_q / t.qGroup;
}

FeatureMap fa4::rt::getKVCacheRequest(const fa4_kvcache_params &p,
                                      const KVCacheTensors &t) {
  FeatureMap request = {{"kernel", "attention"},
                        {"dtype", getDtypeName(p.dtype)},
                        {"head_dim", std::to_string(p.head_dim)},
                        {"head_dim_v", std::to_string(p.head_dim_v)},
                        {"varlen", "false"},
                        {"paged_kv", t.paged ? "true" : "false"},
                        {"kv_cache", "true"},
                        {"split_kv", "true"},
                        {"load_path", "cp_async"}};
  t.mods.addFeatures(request);
  return request;
}

const KernelInfo *fa4::rt::findCombineKernel(const KernelInfo &attention) {
  const std::vector<KernelInfo> *kernels;
  if (getKernels(kernels) != FA4_SUCCESS)
    return nullptr;
  for (const KernelInfo &k : *kernels)
    if (k.module == attention.module && k.feature("kernel") == "combine" &&
        k.isLaunchable())
      return &k;
  return nullptr;
}

int fa4::rt::chooseNumSplits(int64_t work, int64_t slots, int64_t keyBlocks) {
  // Splits multiply the CTAs of a launch that cannot fill the GPU. `work`
  // CTAs (m-blocks x heads x batch) on `slots` (SMs x CTAs per SM): at
  // 80% full or more one split; otherwise the fewest splits whose waves are
  // at least 95% as well used as the best count's, never more than the key
  // blocks (a split of no block is pure overhead) or kMaxSplits. A count
  // that gives the same blocks per split as one fewer is skipped.
  //
  // fa4's addition: a split gets at least kMinBlocksPerSplit key blocks. A
  // split of one or two blocks is mostly prologue (Q's load, the first
  // block's wait) and adds a partial to the combine; on the H200 (run 26)
  // 32 splits of 2 blocks took 15.2 us where 16 splits of 4 took 11.5.
  constexpr int64_t kMinBlocksPerSplit = 4;
  // How full the last wave must be, relative to the best count's. FA2 uses
  // 0.85; decode is bandwidth-bound and an uneven last wave leaves SMs with
  // one CTA beside SMs with two: on the H200 (run 30, batch 1, GQA 32/8,
  // 128k keys, 8 CTAs per split, 264 slots) 0.85 chose 29 splits (232 CTAs,
  // 135.5 us) where 32 (256 CTAs) took 133.8 and 20, 40 or 48 took 174-201.
  constexpr double kWaveFill = 0.95;
  if (work <= 0 || slots <= 0 || keyBlocks <= 1 || work * 5 >= slots * 4)
    return 1;
  int64_t most = std::min<int64_t>(
      {kMaxSplits, std::max<int64_t>(keyBlocks / kMinBlocksPerSplit, 1),
       slots});
  auto efficiency = [&](int64_t n) {
    double waves = static_cast<double>(work * n) / static_cast<double>(slots);
    return waves / std::ceil(waves);
  };
  auto eligible = [&](int64_t n) {
    return n == 1 || (keyBlocks + n - 1) / n != (keyBlocks + n - 2) / (n - 1);
  };
  double best = 0;
  for (int64_t n = 1; n <= most; ++n)
    if (eligible(n))
      best = std::max(best, efficiency(n));
  for (int64_t n = 1; n <= most; ++n)
    if (eligible(n) && efficiency(n) >= kWaveFill * best)
      return static_cast<int>(n);
  return 1;
}

uint64_t fa4::rt::getRotatedQueryBytes(const fa4_kvcache_params &p,
                                       const KVCacheTensors &t) {
  if (!t.rotary || t.empty)
    return 0;
  uint64_t bytes =
      static_cast<uint64_t>(p.batch) * p.seqlen_q * p.nheads_q * p.head_dim * 2;
  return (bytes + 255) / 256 * 256;
}

uint64_t fa4::rt::getKVCacheWorkspaceBytes(const fa4_kvcache_params &p,
                                           const KVCacheTensors &t,
                                           int numSplits) {
  if (t.empty)
    return 0;
  uint64_t partials = numSplits <= 1 ? 0
                                     : static_cast<uint64_t>(numSplits) *
                                           p.batch * t.viewSeqlenQ *
                                           t.viewHeads * (p.head_dim_v + 1) * 4;
  return getRotatedQueryBytes(p, t) + partials;
}

FeatureMap fa4::rt::getAppendRequest(const fa4_kvcache_params &p,
                                     const KVCacheTensors &t) {
  return {{"kernel", "append"},
          {"dtype", getDtypeName(p.dtype)},
          {"paged_kv", t.paged ? "true" : "false"}};
}

fa4_status fa4::rt::prepareAppend(const fa4_kvcache_params &p,
                                  const KVCacheTensors &t,
                                  const KernelInfo &kernel, Launch &launch) {
  launch.kernel = &kernel;
  launch.dtype = p.dtype;
  KernelArgs &args = launch.args;
  args.setPtr("q", t.qIn.data);
  args.setPtr("q_rot", t.q.data);
  args.setPtr("k_new", p.k_new);
  args.setPtr("v_new", p.v_new);
  args.setPtr("k", p.k_cache);
  args.setPtr("v", p.v_cache);
  args.setPtr("rotary_cos", p.rotary_cos);
  args.setPtr("rotary_sin", p.rotary_sin);
  args.setPtr("cache_seqlens", p.cache_seqlens);
  args.setI32("seqlen_k", static_cast<int32_t>(p.cache_seqlen));
  if (t.paged) {
    args.setPtr("block_table", p.block_table);
    args.setI32("block_table_stride", static_cast<int32_t>(t.tableStride));
    args.setI32("page_size", static_cast<int32_t>(p.page_size));
    args.setI32("num_pages", static_cast<int32_t>(p.num_pages));
    args.setI64("k_page_stride", t.k.strides[0]);
    args.setI64("v_page_stride", t.v.strides[0]);
  } else {
    args.setPtr("cache_batch_idx", p.cache_batch_idx);
    args.setI32("cache_entries", static_cast<int32_t>(p.batch_cache));
    args.setI64("k_batch_stride", t.k.strides[0]);
    args.setI64("v_batch_stride", t.v.strides[0]);
  }
  args.setI32("cache_capacity", static_cast<int32_t>(t.capacity));
  args.setI32("batch", static_cast<int32_t>(p.batch));
  int64_t seqlenNew = t.append ? p.seqlen_new : 0;
  // Without rotary the query region has nothing to do.
  int64_t seqlenQ = t.rotary ? p.seqlen_q : 0;
  args.setI32("seqlen_new", static_cast<int32_t>(seqlenNew));
  args.setI32("seqlen_q", static_cast<int32_t>(seqlenQ));
  args.setI32("nheads_q", static_cast<int32_t>(p.nheads_q));
  args.setI32("nheads_kv", static_cast<int32_t>(p.nheads_kv));
  args.setI32("head_dim", static_cast<int32_t>(p.head_dim));
  args.setI32("head_dim_v", static_cast<int32_t>(p.head_dim_v));
  args.setI32("rotary_dim", static_cast<int32_t>(t.rotary ? p.rotary_dim : 0));
  args.setI32("rotary_interleaved", p.rotary_interleaved ? 1 : 0);
  // Query positions: FlashAttention-2 places query s at cache_seqlens[b] + s
  // when causal or local, else every query at cache_seqlens[b].
  args.setI32("q_positions", p.causal || p.local ? 1 : 0);
  args.setI32("seqlen_ro", static_cast<int32_t>(t.rotary ? p.seqlen_ro : 1));
  const Tensor &q = t.qIn;
  args.setI64("q_batch_stride", q.strides[0]);
  args.setI64("q_row_stride", q.strides[1]);
  args.setI64("q_head_stride", q.strides[2]);
  for (const Tensor *tensor : {&t.kNew, &t.vNew}) {
    std::string prefix = tensor == &t.kNew ? "k_new" : "v_new";
    args.setI64(prefix + "_batch_stride", tensor->strides[0]);
    args.setI64(prefix + "_row_stride", tensor->strides[1]);
    args.setI64(prefix + "_head_stride", tensor->strides[2]);
  }
  args.setI64("k_row_stride", t.k.strides[1]);
  args.setI64("k_head_stride", t.k.strides[2]);
  args.setI64("v_row_stride", t.v.strides[1]);
  args.setI64("v_head_stride", t.v.strides[2]);
  int64_t units =
      std::max({p.batch * seqlenNew * p.nheads_kv *
                    (std::max(p.head_dim, p.head_dim_v) / 2),
                p.batch * seqlenQ * p.nheads_q * (p.head_dim / 2), int64_t{1}});
  launch.sizes = {{"append_units", units}};
  return FA4_SUCCESS;
}

fa4_status fa4::rt::prepareKVCache(const fa4_kvcache_params &p,
                                   const KVCacheTensors &t,
                                   const KernelInfo &kernel, int numSplits,
                                   void *workspace, uint64_t workspaceBytes,
                                   Launch &launch) {
  launch.kernel = &kernel;
  launch.dtype = p.dtype;
  // The kernel's rule covers the partials, which follow the rotated Q.
  uint64_t rotated = getRotatedQueryBytes(p, t);
  launch.workspaceProvided = true;
  launch.workspaceBytes =
      workspaceBytes > rotated ? workspaceBytes - rotated : 0;
  KernelArgs &args = launch.args;
  args.setPtr("q", t.q.data);
  args.setPtr("k", t.k.data);
  args.setPtr("v", t.v.data);
  args.setPtr("o", t.o.data);
  args.setPtr("lse", p.lse);
  // Partial O, then partial LSE (both fp32; O's size keeps the LSE 16-byte
  // aligned: head_dim_v is a multiple of 32).
  uint64_t oBytes = static_cast<uint64_t>(numSplits) * p.batch * t.viewSeqlenQ *
                    t.viewHeads * p.head_dim_v * 4;
  void *lsePartial = numSplits > 1 && workspace
                         ? static_cast<char *>(workspace) + oBytes
                         : nullptr;
  args.setPtr("o_partial", numSplits > 1 ? workspace : nullptr);
  args.setPtr("lse_partial", lsePartial);
  args.setI32("num_splits", numSplits);
  args.setI32("seqlen_q", static_cast<int32_t>(p.seqlen_q));
  args.setI32("q_group", static_cast<int32_t>(t.qGroup));
  args.setI32("seqlen_k", static_cast<int32_t>(p.cache_seqlen));
  args.setPtr("cache_seqlens", p.cache_seqlens);
  args.setI32("seqlen_new", static_cast<int32_t>(t.append ? p.seqlen_new : 0));
  args.setI32("head_ratio", static_cast<int32_t>(t.viewHeads / p.nheads_kv));
  for (const Tensor *tensor : {&t.q, &t.k, &t.v, &t.o}) {
    std::string prefix = tensor == &t.o   ? "o"
                         : tensor == &t.k ? "k"
                         : tensor == &t.v ? "v"
                                          : "q";
    args.setI64(prefix + "_batch_stride", tensor->strides[0]);
    args.setI64(prefix + "_head_stride", tensor->strides[2]);
    args.setI32(prefix + "_row_stride",
                static_cast<int32_t>(tensor->strides[1]));
  }
  if (t.paged) {
    args.setI64("k_page_stride", t.k.strides[0]);
    args.setI64("v_page_stride", t.v.strides[0]);
    args.setPtr("block_table", p.block_table);
    args.setI32("block_table_stride", static_cast<int32_t>(t.tableStride));
    args.setI32("page_size", static_cast<int32_t>(p.page_size));
    DivisionReciprocal page = getDivisionReciprocal(p.page_size);
    args.setI32("page_magic", static_cast<int32_t>(page.magic));
    args.setI32("page_shift", page.shift);
    args.setI32("max_pages", static_cast<int32_t>(p.max_pages));
    args.setI32("num_pages", static_cast<int32_t>(p.num_pages));
  } else {
    args.setPtr("cache_batch_idx", p.cache_batch_idx);
    args.setPtr("cache_leftpad", p.cache_leftpad);
    args.setI32("cache_entries", static_cast<int32_t>(p.batch_cache));
    args.setI32("cache_capacity", static_cast<int32_t>(p.seqlen_cache));
  }
  args.setI64("lse_batch_stride", t.lseStrides[0]);
  args.setI64("lse_head_stride", t.lseStrides[1]);
  args.setF32("softmax_scale", t.scale);
  t.mods.setArgs(launch);
  launch.sizes = {{"batch", p.batch},
                  {"nheads_q", t.viewHeads},
                  {"nheads_kv", p.nheads_kv},
                  {"seqlen_q", t.viewSeqlenQ},
                  {"num_splits", numSplits},
                  {"split_partials", numSplits > 1 ? numSplits : 0}};
  return FA4_SUCCESS;
}

fa4_status fa4::rt::prepareCombine(const fa4_kvcache_params &p,
                                   const KVCacheTensors &t,
                                   const KernelInfo &kernel,
                                   const Launch &attention, Launch &launch) {
  launch.kernel = &kernel;
  launch.dtype = p.dtype;
  KernelArgs &args = launch.args;
  uint64_t oBytes = static_cast<uint64_t>(attention.sizes.at("num_splits")) *
                    p.batch * t.viewSeqlenQ * t.viewHeads * p.head_dim_v * 4;
  const void *workspace = t.workspace;
  args.setPtr("o_partial", workspace);
  args.setPtr("lse_partial", workspace
                                 ? static_cast<const char *>(workspace) + oBytes
                                 : nullptr);
  args.setPtr("o", t.o.data);
  args.setPtr("lse", p.lse);
  args.setI32("num_splits",
              static_cast<int32_t>(attention.sizes.at("num_splits")));
  args.setI32("batch", static_cast<int32_t>(p.batch));
  args.setI32("seqlen_q", static_cast<int32_t>(t.viewSeqlenQ));
  args.setI32("nheads_q", static_cast<int32_t>(t.viewHeads));
  args.setI32("q_group", static_cast<int32_t>(t.qGroup));
  args.setI64("o_batch_stride", t.o.strides[0]);
  args.setI64("o_head_stride", t.o.strides[2]);
  args.setI32("o_row_stride", static_cast<int32_t>(t.o.strides[1]));
  args.setI64("lse_batch_stride", t.lseStrides[0]);
  args.setI64("lse_head_stride", t.lseStrides[1]);
  launch.sizes = {{"batch", p.batch},
                  {"nheads_q", t.viewHeads},
                  {"seqlen_q", t.viewSeqlenQ}};
  return FA4_SUCCESS;
}

namespace {
/// Validation, kernel choice and the split count: what both the workspace
/// query and the launch need.
struct KVCachePlan {
  KVCacheTensors t;
  const KernelInfo *kernel = nullptr;
  const KernelInfo *combine = nullptr;
  const KernelInfo *append = nullptr;
  int numSplits = 1;
  const CudaDriver *driver = nullptr;
  CUcontext context = nullptr;
};
} // namespace

static fa4_status planKVCache(const fa4_kvcache_params &p, KVCachePlan &plan) {
  if (fa4_status s = validateKVCache(p, plan.t); s != FA4_SUCCESS)
    return s;
  if (plan.t.empty)
    return FA4_SUCCESS;
  const char *target;
  if (fa4_status s = getDevice(plan.driver, plan.context, target);
      s != FA4_SUCCESS)
    return s;
  std::vector<const KernelInfo *> found =
      findKernels(target, getKVCacheRequest(p, plan.t));
  // A combination without a kernel of its own: the switchable kernel. It
  // has ALiBi compiled in, so it does not pack a GQA group (its slope is
  // per query head): the view is one query head per CTA row block.
  const ScoreMods asked = plan.t.mods;
  if (found.empty() && plan.t.mods.makeSwitchable()) {
    found = findKernels(target, getKVCacheRequest(p, plan.t));
    if (found.empty()) {
      plan.t.mods = asked;
    } else if (plan.t.packGqa) {
      if (p.nheads_q > kMaxGridYZ)
        return fail(FA4_ERROR_INVALID_SHAPE,
                    format("nheads_q (%lld) must be at most %lld with %s",
                           static_cast<long long>(p.nheads_q),
                           static_cast<long long>(kMaxGridYZ),
                           asked.describe().c_str()));
      setGqaView(p, plan.t);
    }
  }
  if (found.empty())
    return fail(
        FA4_ERROR_NO_KERNEL,
        format("no embedded KV-cache kernel for %s head_dim %lld "
               "(head_dim_v %lld) %s, %s cache, on %s",
               getDtypeName(p.dtype), static_cast<long long>(p.head_dim),
               static_cast<long long>(p.head_dim_v), asked.describe().c_str(),
               plan.t.paged ? "paged" : "contiguous", target));
  plan.kernel = found.front();
  if (plan.t.append) {
    std::vector<const KernelInfo *> appenders =
        findKernels(target, getAppendRequest(p, plan.t));
    if (appenders.empty())
      return fail(FA4_ERROR_NO_KERNEL,
                  format("no embedded append kernel for %s, %s cache, on %s",
                         getDtypeName(p.dtype),
                         plan.t.paged ? "paged" : "contiguous", target));
    plan.append = appenders.front();
  }
  plan.combine = findCombineKernel(*plan.kernel);
  if (!plan.combine)
    return fail(FA4_ERROR_INTERNAL, "kernel " + plan.kernel->name +
                                        " has no combine kernel in its module");
  plan.numSplits = p.num_splits;
  if (plan.numSplits == 0) {
    // The heuristic: CTAs of one split against the CTAs the device holds
    // at once (SMs x this kernel's occupancy).
    const CudaDriver &d = *plan.driver;
    CUdevice device;
    FA4_CUDA_CHECK(d, cuCtxGetDevice, &device);
    int sms = 0;
    FA4_CUDA_CHECK(d, cuDeviceGetAttribute, &sms,
                   CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
    CUfunction function;
    if (fa4_status s = getFunction(d, plan.context, *plan.kernel, function);
        s != FA4_SUCCESS)
      return s;
    int perSM = 0;
    FA4_CUDA_CHECK(d, cuOccupancyMaxActiveBlocksPerMultiprocessor, &perSM,
                   function, static_cast<int>(plan.kernel->threads),
                   static_cast<size_t>(plan.kernel->smemBytes));
    auto tile = [&](const char *key) {
      auto it = plan.kernel->config.find(key);
      return it == plan.kernel->config.end() ? 64 : it->second;
    };
    int64_t mBlocks =
        (plan.t.viewSeqlenQ + tile("tile_m") - 1) / tile("tile_m");
    int64_t keyBlocks = (plan.t.capacity + tile("tile_n") - 1) / tile("tile_n");
    plan.numSplits = chooseNumSplits(
        p.batch * plan.t.viewHeads * mBlocks,
        static_cast<int64_t>(sms) * std::max(perSM, 1), keyBlocks);
  }
  return FA4_SUCCESS;
}

extern "C" fa4_status
fa4_kvcache_workspace_size(const fa4_kvcache_params *params, uint64_t *bytes) {
  clearError();
  if (!params)
    return fail(FA4_ERROR_NULL_POINTER, "params is NULL");
  if (!bytes)
    return fail(FA4_ERROR_NULL_POINTER, "bytes is NULL");
  *bytes = 0;
  KVCachePlan plan;
  if (fa4_status s = planKVCache(*params, plan); s != FA4_SUCCESS)
    return s;
  *bytes = getKVCacheWorkspaceBytes(*params, plan.t, plan.numSplits);
  return FA4_SUCCESS;
}

extern "C" fa4_status fa4_kvcache_fwd(const fa4_kvcache_params *params,
                                      void *workspace, uint64_t workspaceBytes,
                                      void *stream) {
  clearError();
  if (!params)
    return fail(FA4_ERROR_NULL_POINTER, "params is NULL");
  const fa4_kvcache_params &p = *params;
  KVCachePlan plan;
  if (fa4_status s = planKVCache(p, plan); s != FA4_SUCCESS)
    return s;
  if (plan.t.empty)
    return FA4_SUCCESS;
  uint64_t needed = getKVCacheWorkspaceBytes(p, plan.t, plan.numSplits);
  if (needed > 0) {
    if (!workspace)
      return fail(FA4_ERROR_NULL_POINTER,
                  format("workspace is NULL; %d splits need %llu bytes "
                         "(fa4_kvcache_workspace_size)",
                         plan.numSplits,
                         static_cast<unsigned long long>(needed)));
    if (workspaceBytes < needed)
      return fail(FA4_ERROR_INVALID_ARGUMENT,
                  format("workspace holds %llu bytes; %d splits need %llu "
                         "(fa4_kvcache_workspace_size)",
                         static_cast<unsigned long long>(workspaceBytes),
                         plan.numSplits,
                         static_cast<unsigned long long>(needed)));
    if (fa4_status s = checkAligned(workspace, 16, "workspace");
        s != FA4_SUCCESS)
      return s;
  }
  plan.t.workspace = workspace;
  CUstream cuStream = static_cast<CUstream>(stream);
  if (plan.t.rotary)
    plan.t.q.data = workspace;
  if (plan.append) {
    Launch append;
    if (fa4_status s = prepareAppend(p, plan.t, *plan.append, append);
        s != FA4_SUCCESS)
      return s;
    if (fa4_status s =
            launchKernel(*plan.driver, plan.context, append, cuStream);
        s != FA4_SUCCESS)
      return s;
  }
  Launch launch;
  if (fa4_status s = prepareKVCache(p, plan.t, *plan.kernel, plan.numSplits,
                                    workspace, workspaceBytes, launch);
      s != FA4_SUCCESS)
    return s;
  if (fa4_status s = launchKernel(*plan.driver, plan.context, launch, cuStream);
      s != FA4_SUCCESS)
    return s;
  if (plan.numSplits <= 1)
    return FA4_SUCCESS;
  Launch combine;
  if (fa4_status s = prepareCombine(p, plan.t, *plan.combine, launch, combine);
      s != FA4_SUCCESS)
    return s;
  return launchKernel(*plan.driver, plan.context, combine, cuStream);
}

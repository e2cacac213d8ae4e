//===- KernelTableTest.cpp - the embedded kernels, without a GPU ----------===//
//
// Every embedded kernel's metadata parses, agrees with its PTX signature,
// and is reachable: for each one there is a request (built from its
// features) that the runtime validates, that selects exactly that kernel,
// and for which the runtime supplies every parameter the kernel declares,
// with the declared type, and evaluates its grid rule. A kernel added to
// kernels/ that the runtime could not launch fails here, on any machine.
//
//===----------------------------------------------------------------------===//

#include "Entry.h"
#include "KVCache.h"
#include "KernelRegistry.h"
#include "TestUtil.h"

#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <string>

using namespace fa4::rt;

/// The embedded kernels; a failure to load them fails the calling test.
static const std::vector<KernelInfo> &kernels() {
  const std::vector<KernelInfo> *list = nullptr;
  fa4_status s = getKernels(list);
  EXPECT(s == FA4_SUCCESS && list, "(%s)", fa4_last_error());
  static const std::vector<KernelInfo> none;
  return list ? *list : none;
}

/// The `.entry` parameter types of `name` in `ptx`, in order.
static std::vector<std::string> ptxEntryParams(const std::string &ptx,
                                               const std::string &name) {
  std::vector<std::string> types;
  size_t entry = ptx.find(".entry " + name + "(");
  if (entry == std::string::npos)
    return types;
  size_t end = ptx.find(')', entry);
  std::string list = ptx.substr(entry, end - entry);
  // .param .u64 .ptr .global .align 1 k_param_0 | .param .u32 k_param_5 |
  // .param .align 64 .b8 k_param_23[128]
  std::regex param(
      R"(\.param\s+(\.align\s+\d+\s+)?\.(\w+)(\s+\.ptr)?[^,\n]*_param_(\d+)(\[\d+\])?)");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), param);
       it != std::sregex_iterator(); ++it) {
    std::string type = (*it)[2].str() + (*it)[5].str();
    if ((*it)[3].matched)
      type += " .ptr";
    if ((*it)[1].matched)
      type += " " + std::regex_replace((*it)[1].str(), std::regex(R"(\s+$)"), "");
    EXPECT(std::stoul((*it)[4].str()) == types.size(), "(param order)");
    types.push_back(type);
  }
  return types;
}

FA4_TEST(metadataAgreesWithPtxSignature) {
  const std::vector<KernelInfo> &all = kernels();
  EXPECT(!all.empty());
  for (const KernelInfo &k : all) {
    const char *text = nullptr;
    EXPECT(getModulePtx(*k.module, text) == FA4_SUCCESS, "(%s)",
           fa4_last_error());
    if (!text)
      continue;
    std::string ptx(text);
    EXPECT(ptx.size() == k.module->ptxSize, "(%s: inflated %zu of %zu bytes)",
           k.name.c_str(), ptx.size(), k.module->ptxSize);
    EXPECT(ptx.find(".target " + k.target()) != std::string::npos,
           "(%s: PTX is not for %s)", k.name.c_str(), k.target().c_str());
    std::vector<std::string> types = ptxEntryParams(ptx, k.name);
    EXPECT(types.size() == k.params.size(),
           "(%s/%s: PTX has %zu params, metadata %zu)", k.target().c_str(),
           k.name.c_str(), types.size(), k.params.size());
    for (size_t i = 0; i < std::min(types.size(), k.params.size()); ++i) {
      std::string want = getPtxParamType(k.params[i].type);
      if (k.params[i].type == ParamType::Ptr)
        want += " .ptr";
      if (k.params[i].type == ParamType::TensorMap)
        want += " .align 64";
      EXPECT(types[i] == want, "(%s param %zu '%s': PTX .%s, metadata %s)",
             k.name.c_str(), i, k.params[i].name.c_str(), types[i].c_str(),
             want.c_str());
    }
    if (k.feature("kernel") == "combine" || k.feature("kernel") == "append") {
      // Split-KV's combine and the KV-cache append: 128 threads, no shared
      // memory.
      EXPECT(k.threads == 128 && k.smemBytes == 0 && k.isLaunchable(),
             "(%s: threads %lld, smem %lld)", k.name.c_str(),
             static_cast<long long>(k.threads),
             static_cast<long long>(k.smemBytes));
      // Only the combine waits for the grid before it (griddepcontrol.wait)
      // and so may be launched programmatically.
      EXPECT(isProgrammaticLaunch(k) == (k.feature("kernel") == "combine"),
             "(%s)", k.name.c_str());
      continue;
    }
    EXPECT(!isProgrammaticLaunch(k), "(%s)", k.name.c_str());
    int64_t producer = k.feature("load_path") == "tma" ? 4 * 32 : 0;
    auto warps = k.config.find("num_warps");
    EXPECT(warps != k.config.end() &&
               k.threads == warps->second * 32 + producer &&
               k.smemBytes > 0 && k.smemBytes <= 101376,
           "(%s: threads %lld, smem %lld)", k.name.c_str(),
           static_cast<long long>(k.threads),
           static_cast<long long>(k.smemBytes));
    EXPECT(k.isLaunchable(), "(%s has no grid or workspace rule)",
           k.name.c_str());
  }
}

FA4_TEST(everyTargetHasTheKernelSet) {
  std::set<std::string> have;
  for (const KernelInfo &k : kernels())
    have.insert(k.target() + "/" + std::string(k.feature("dtype")) + "/" +
                std::string(k.feature("head_dim")) + "/" +
                (k.feature("causal") == "true" ? "causal" : "full") + "/" +
                (k.feature("paged_kv") == "true" ? "paged"
                 : k.feature("varlen") == "true" ? "varlen"
                                                 : "dense") +
                "/" + std::string(k.feature("load_path")));
  for (const char *target : {"sm_120a", "sm_121a", "sm_90"})
    for (const char *dtype : {"bf16", "f16"})
      for (int d : {64, 96, 128})
        for (const char *mask : {"causal", "full"})
          for (const char *layout :
               {"dense/cp_async", "dense/tma", "varlen/cp_async",
                "paged/cp_async"}) {
            std::string key = std::string(target) + "/" + dtype + "/" +
                              std::to_string(d) + "/" + mask + "/" + layout;
            EXPECT(have.count(key), "(missing %s)", key.c_str());
          }
}

FA4_TEST(sDmaskKernelsShareTheirKeyBlock) {
  // attn_probs_block_n asks the dense kernel for a call's modifications and
  // serves varlen too, and FA2's normalize_flash_attn_S takes one block size
  // per head dim: every S_dmask kernel of a (target, dtype, head dims) has
  // the same tile N, varlen or dense, plain, causal or switchable.
  std::map<std::string, int64_t> blockN;
  int probsKernels = 0;
  for (const KernelInfo &k : kernels()) {
    if (k.feature("return_probs") != "true")
      continue;
    ++probsKernels;
    std::string key = k.target() + "/" + std::string(k.feature("dtype")) + "/" +
                      std::string(k.feature("head_dim")) + "/" +
                      std::string(k.feature("head_dim_v"));
    int64_t tileN = k.config.at("tile_n");
    auto [it, inserted] = blockN.emplace(key, tileN);
    EXPECT(inserted || it->second == tileN, "(%s: tile_n %lld, another %lld)",
           k.name.c_str(), static_cast<long long>(tileN),
           static_cast<long long>(it->second));
  }
  // Per target, dtype and head dims: plain, causal and switchable, dense
  // and varlen.
  EXPECT(probsKernels == 6 * static_cast<int>(blockN.size()),
         "(%d S_dmask kernels over %zu head-dim classes)", probsKernels,
         blockN.size());
}

FA4_TEST(targetSelection) {
  EXPECT(std::string(getTargetForComputeCapability(12, 0)) == "sm_120a");
  EXPECT(std::string(getTargetForComputeCapability(12, 1)) == "sm_121a");
  EXPECT(std::string(getTargetForComputeCapability(9, 0)) == "sm_90");
  EXPECT(getTargetForComputeCapability(8, 9) == nullptr);
  EXPECT(getTargetForComputeCapability(10, 0) == nullptr);
  EXPECT(getTargetForComputeCapability(12, 2) == nullptr);
}

namespace {
// Fake (but aligned) device pointers for requests that are never launched.
const void *const kQ = reinterpret_cast<const void *>(0x10000);
const void *const kK = reinterpret_cast<const void *>(0x20000);
const void *const kV = reinterpret_cast<const void *>(0x30000);
void *const kO = reinterpret_cast<void *>(0x40000);
float *const kLse = reinterpret_cast<float *>(0x50000);
const int32_t *const kCuQ = reinterpret_cast<const int32_t *>(0x60000);
const int32_t *const kCuK = reinterpret_cast<const int32_t *>(0x61000);
const int32_t *const kUsed = reinterpret_cast<const int32_t *>(0x62000);
const int32_t *const kTable = reinterpret_cast<const int32_t *>(0x63000);

int64_t featureInt(const KernelInfo &k, const char *key) {
  return std::atoll(std::string(k.feature(key)).c_str());
}
fa4_dtype featureDtype(const KernelInfo &k) {
  return k.feature("dtype") == "bf16" ? FA4_DTYPE_BF16 : FA4_DTYPE_FP16;
}

/// Whether `k` is a switchable kernel: the request names two of its three
/// modifications (window and softcap, no ALiBi) and reaches it through
/// ScoreMods::makeSwitchable, so the third's neutral value is supplied.
bool isSwitchable(const KernelInfo &k) {
  return k.feature("switchable") == "true";
}

/// The causal flag, window and softcap that select kernel `k`'s features:
/// a window kernel gets a two-sided window, a softcap kernel a cap.
template <typename Params> void setScoreMods(const KernelInfo &k, Params &p) {
  p.causal = k.feature("causal") == "true";
  if (k.feature("window") == "true") {
    p.local = 1;
    p.window_left = 64;
    p.window_right = 16;
  }
  if (k.feature("softcap") == "true")
    p.softcap = 30.0f;
  if (k.feature("alibi") == "true" && !isSwitchable(k)) {
    p.alibi_slopes = reinterpret_cast<const float *>(0x90000);
    p.alibi_slopes_batch_stride = 8;
  }
  if (k.feature("sink") == "true")
    p.learnable_sink = reinterpret_cast<const float *>(0xa0000);
  if (k.feature("dropout") == "true") {
    p.dropout_p = 0.1f;
    p.dropout_seed = 0x0123456789abcdefULL;
    p.dropout_offset = 64;
  }
  if (k.feature("block_sparse") == "true") {
    fa4_block_sparse &bs = p.block_sparse;
    bs.mask_block_cnt = reinterpret_cast<const int32_t *>(0xb0000);
    bs.mask_block_idx = reinterpret_cast<const int32_t *>(0xb1000);
    bs.full_block_cnt = reinterpret_cast<const int32_t *>(0xb2000);
    bs.full_block_idx = reinterpret_cast<const int32_t *>(0xb3000);
    bs.heads = 1;
    bs.m_blocks = 8;
    bs.mask_capacity = bs.full_capacity = 8;
    // Every tile divides 128 (a key tile is at most 128).
    bs.block_m = bs.block_n = 128;
  }
}

/// Checks that `found` is exactly `k` and that the prepared launch supplies
/// every parameter and evaluates the grid.
void expectReachable(const KernelInfo &k, const FeatureMap &request,
                     const Launch &launch) {
  EXPECT(request == k.features, "(%s: the request differs from its features)",
         k.name.c_str());
  std::vector<const KernelInfo *> found = findKernels(k.target(), request);
  EXPECT(found.size() == 1 && found.front() == &k,
         "(%s: the request selects %zu kernels, not this one)", k.name.c_str(),
         found.size());
  EXPECT(checkArguments(launch) == FA4_SUCCESS, "(%s)", fa4_last_error());
  unsigned grid[3];
  EXPECT(getGrid(launch, grid) == FA4_SUCCESS && grid[0] > 0 && grid[1] > 0 &&
             grid[2] > 0,
         "(%s: %s)", k.name.c_str(), fa4_last_error());
}
} // namespace

/// A KV-cache kernel's request, both launches (attention with 3 splits,
/// then its module's combine) prepared.
void expectKVCacheReachable(const KernelInfo &k) {
  bool paged = k.feature("paged_kv") == "true";
  fa4_kvcache_params p;
  fa4_kvcache_params_init(&p);
  p.q = kQ, p.k_cache = kK, p.v_cache = kV, p.out = kO, p.lse = kLse;
  p.cache_seqlens = kUsed;
  p.batch = 2, p.seqlen_q = 4, p.nheads_q = 8, p.nheads_kv = 2;
  p.head_dim = featureInt(k, "head_dim");
  p.head_dim_v = featureInt(k, "head_dim_v");
  p.dtype = featureDtype(k);
  p.causal = k.feature("causal") == "true";
  if (k.feature("window") == "true") {
    p.local = 1;
    p.window_left = 64;
    p.window_right = 16;
  }
  if (k.feature("softcap") == "true")
    p.softcap = 30.0f;
  if (k.feature("alibi") == "true" && !isSwitchable(k))
    p.alibi_slopes = reinterpret_cast<const float *>(0x90000);
  if (paged) {
    p.block_table = kTable;
    p.max_pages = 8, p.num_pages = 20, p.page_size = 64;
  } else {
    p.cache_batch_idx = kCuQ, p.cache_leftpad = kCuK;
    p.batch_cache = 3, p.seqlen_cache = 512;
  }
  // Appending with rotary: the append kernel of the layout and dtype.
  p.k_new = kK, p.v_new = kV, p.seqlen_new = 2;
  p.rotary_cos = kQ, p.rotary_sin = kK, p.rotary_dim = p.head_dim / 2;
  p.seqlen_ro = 512; // the cache rows: 8 pages of 64, or 512
  p.rotary_dim -= p.rotary_dim % 2;
  KVCacheTensors t;
  EXPECT(validateKVCache(p, t) == FA4_SUCCESS, "(%s: %s)", k.name.c_str(),
         fa4_last_error());
  if (isSwitchable(k)) {
    // planKVCache's fallback: switchable, and no GQA packing (ALiBi).
    EXPECT(t.mods.makeSwitchable(), "(%s)", k.name.c_str());
    setGqaView(p, t);
    EXPECT(!t.packGqa && t.viewHeads == p.nheads_q, "(%s)", k.name.c_str());
  }
  std::vector<const KernelInfo *> appenders =
      findKernels(k.target(), getAppendRequest(p, t));
  EXPECT(appenders.size() == 1, "(%s: %zu append kernels)", k.name.c_str(),
         appenders.size());
  if (appenders.size() == 1) {
    Launch append;
    EXPECT(prepareAppend(p, t, *appenders.front(), append) == FA4_SUCCESS);
    EXPECT(checkArguments(append) == FA4_SUCCESS, "(%s)", fa4_last_error());
    unsigned grid[3];
    EXPECT(getGrid(append, grid) == FA4_SUCCESS && grid[1] == 3 &&
               grid[0] == (2 * 4 * 8 * (p.head_dim / 2) + 127) / 128,
           "(%s: grid %u)", appenders.front()->name.c_str(), grid[0]);
  }
  alignas(16) char workspace[16];
  t.workspace = workspace;
  uint64_t bytes = getKVCacheWorkspaceBytes(p, t, 3);
  uint64_t rotated = (2ull * 4 * 8 * p.head_dim * 2 + 255) / 256 * 256;
  EXPECT(getRotatedQueryBytes(p, t) == rotated);
  EXPECT(bytes == rotated + 3ull * 2 * 4 * 8 * (p.head_dim_v + 1) * 4);
  Launch launch;
  EXPECT(prepareKVCache(p, t, k, 3, workspace, bytes, launch) == FA4_SUCCESS);
  expectReachable(k, getKVCacheRequest(p, t), launch);
  // One byte short of the rule is refused by name.
  Launch small;
  EXPECT(prepareKVCache(p, t, k, 3, workspace, bytes - 1, small) ==
         FA4_SUCCESS);
  EXPECT(checkArguments(small) == FA4_ERROR_INVALID_ARGUMENT &&
             std::strstr(fa4_last_error(), "bytes of workspace"),
         "(%s)", fa4_last_error());
  const KernelInfo *combine = findCombineKernel(k);
  EXPECT(combine != nullptr, "(%s has no combine kernel)", k.name.c_str());
  if (!combine)
    return;
  EXPECT(combine->feature("head_dim_v") == k.feature("head_dim_v") &&
         combine->feature("dtype") == k.feature("dtype"));
  Launch merge;
  EXPECT(prepareCombine(p, t, *combine, launch, merge) == FA4_SUCCESS);
  EXPECT(checkArguments(merge) == FA4_SUCCESS, "(%s)", fa4_last_error());
  unsigned grid[3];
  EXPECT(getGrid(merge, grid) == FA4_SUCCESS &&
             grid[0] == (2 * 4 * 8 * p.head_dim_v / 4 + 127) / 128,
         "(%s)", combine->name.c_str());
}

/// fa4_fwd parameters that select dense kernel `k`: 2 x 300 queries, 500
/// keys, GQA 8/2, an LSE, and `k`'s score modifications.
static fa4_fwd_params denseParams(const KernelInfo &k) {
  fa4_fwd_params p;
  fa4_fwd_params_init(&p);
  p.q = kQ, p.k = kK, p.v = kV, p.out = kO, p.lse = kLse;
  p.batch = 2, p.seqlen_q = 300, p.seqlen_k = 500;
  p.nheads_q = 8, p.nheads_kv = 2;
  p.head_dim = featureInt(k, "head_dim");
  p.head_dim_v = featureInt(k, "head_dim_v");
  p.dtype = featureDtype(k);
  setScoreMods(k, p);
  return p;
}

/// A block-sparse kernel's tile must divide the sparse block sizes: the
/// launch fails naming both; one that divides sets the tiles per entry.
FA4_TEST(blockSparseBlocksMustBeTileMultiples) {
  int checked = 0;
  for (const KernelInfo &k : kernels()) {
    if (k.feature("block_sparse") != "true" || k.feature("varlen") == "true")
      continue;
    fa4_fwd_params p = denseParams(k);
    p.lse = nullptr;
    int64_t tileN = k.config.at("tile_n");
    p.block_sparse.block_n = tileN * 3;
    ForwardTensors t;
    EXPECT(validateForward(p, t) == FA4_SUCCESS, "(%s: %s)", k.name.c_str(),
           fa4_last_error());
    Launch launch;
    EXPECT(prepareForward(p, t, k, launch) == FA4_SUCCESS, "(%s: %s)",
           k.name.c_str(), fa4_last_error());
    p.block_sparse.block_n = tileN + tileN / 2;
    EXPECT(validateForward(p, t) == FA4_SUCCESS);
    Launch bad;
    EXPECT(prepareForward(p, t, k, bad) == FA4_ERROR_INVALID_ARGUMENT &&
               std::strstr(fa4_last_error(), "must be multiples of the "
                                             "kernel's tile"),
           "(%s: %s)", k.name.c_str(), fa4_last_error());
    ++checked;
  }
  EXPECT(checked >= 36, "(%d block-sparse dense kernels)", checked);
}

FA4_TEST(everyKernelIsReachableAndFullySupplied) {
  int reached = 0;
  for (const KernelInfo &k : kernels()) {
    if (k.feature("kernel") == "combine" || k.feature("kernel") == "append")
      continue; // reached through the KV-cache kernels
    EXPECT(k.feature("kernel") == "attention", "(%s: unknown kernel kind)",
           k.name.c_str());
    bool varlen = k.feature("varlen") == "true";
    bool paged = k.feature("paged_kv") == "true";
    if (k.feature("kv_cache") == "true") {
      expectKVCacheReachable(k);
    } else if (!varlen) {
      fa4_fwd_params p = denseParams(k);
      if (k.feature("return_probs") == "true")
        p.s_dmask = reinterpret_cast<void *>(0x900000);
      ForwardTensors t;
      EXPECT(validateForward(p, t) == FA4_SUCCESS, "(%s: %s)", k.name.c_str(),
             fa4_last_error());
      if (isSwitchable(k))
        EXPECT(t.mods.makeSwitchable(), "(%s)", k.name.c_str());
      std::string path(k.feature("load_path"));
      FeatureMap request = getForwardRequest(p, t.mods, path.c_str());
      Launch launch;
      EXPECT(prepareForward(p, t, k, launch) == FA4_SUCCESS);
      expectReachable(k, request, launch);
    } else {
      fa4_varlen_fwd_params p;
      fa4_varlen_fwd_params_init(&p);
      p.q = kQ, p.k = kK, p.v = kV, p.out = kO, p.lse = kLse;
      p.cu_seqlens_q = kCuQ, p.cu_seqlens_k = kCuK, p.seqused_k = kUsed;
      p.batch = 3, p.total_q = 700, p.total_k = 900;
      p.max_seqlen_q = 400, p.max_seqlen_k = 500;
      p.nheads_q = 8, p.nheads_kv = 2;
      p.head_dim = featureInt(k, "head_dim");
      p.head_dim_v = featureInt(k, "head_dim_v");
      p.dtype = featureDtype(k);
      setScoreMods(k, p);
      if (paged) {
        p.block_table = kTable;
        p.max_pages = 8, p.num_pages = 20, p.page_size = 64;
      }
      if (k.feature("return_probs") == "true")
        p.s_dmask = reinterpret_cast<void *>(0x900000);
      VarlenTensors t;
      EXPECT(validateVarlen(p, t) == FA4_SUCCESS, "(%s: %s)", k.name.c_str(),
             fa4_last_error());
      if (isSwitchable(k))
        EXPECT(t.mods.makeSwitchable(), "(%s)", k.name.c_str());
      FeatureMap request = getVarlenRequest(p, t.mods);
      Launch launch;
      EXPECT(prepareVarlen(p, t, k, launch) == FA4_SUCCESS);
      expectReachable(k, request, launch);
    }
    ++reached;
  }
  EXPECT(reached > 0);
  std::printf("  %d kernels reachable, every parameter supplied\n", reached);
}

FA4_TEST(splitHeuristicFillsTheDevice) {
  // A full device: one split. Few CTAs and many key blocks: enough splits
  // to fill the slots, never more than the key blocks or 128.
  EXPECT(chooseNumSplits(200, 170, 512) == 1);
  EXPECT(chooseNumSplits(8, 170, 2048) > 1);
  int n = chooseNumSplits(8, 170, 2048);
  EXPECT(8 * n >= 0.8 * 170 && n <= 128, "(%d splits)", n);
  EXPECT(chooseNumSplits(1, 170, 3) <= 3);
  EXPECT(chooseNumSplits(1, 264, 4096) >= 100 &&
         chooseNumSplits(1, 264, 4096) <= 128);
  EXPECT(chooseNumSplits(4, 170, 1) == 1);
  // At least 4 key blocks per split: 64 blocks allow 16.
  EXPECT(chooseNumSplits(8, 264, 64) <= 16 && chooseNumSplits(8, 264, 64) > 1);
}

FA4_TEST(packingFollowsMetadataOrder) {
  for (const KernelInfo &k : kernels()) {
    // A distinct value per name, set in reverse order: the packed slots must
    // still come out in the kernel's order.
    KernelArgs args;
    std::map<std::string, uint64_t> expected;
    for (size_t i = k.params.size(); i-- > 0;) {
      const KernelParam &param = k.params[i];
      uint64_t value = 1000 + i;
      expected[param.name] = value;
      switch (param.type) {
      case ParamType::TensorMap: {
        CUtensorMap map;
        std::memset(&map, 0, sizeof(map));
        std::memcpy(&map, &value, sizeof(value));
        args.setTensorMap(param.name, map);
        break;
      }
      case ParamType::Ptr:
        args.setPtr(param.name, reinterpret_cast<const void *>(value));
        break;
      case ParamType::I32:
        args.setI32(param.name, static_cast<int32_t>(value));
        break;
      case ParamType::I64:
        args.setI64(param.name, static_cast<int64_t>(value));
        break;
      case ParamType::F32: {
        float f = static_cast<float>(value);
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        expected[param.name] = bits;
        args.setF32(param.name, f);
        break;
      }
      }
    }
    std::vector<KernelArgs::Slot> storage;
    std::vector<void *> pointers;
    EXPECT(args.pack(k, storage, pointers) == FA4_SUCCESS, "(%s)",
           fa4_last_error());
    EXPECT(storage.size() == k.params.size());
    for (size_t i = 0; i < k.params.size() && i < storage.size(); ++i) {
      uint64_t got;
      std::memcpy(&got, storage[i].bytes, sizeof(got));
      if (k.params[i].type == ParamType::I32 ||
          k.params[i].type == ParamType::F32)
        got &= 0xFFFFFFFFull;
      EXPECT(got == expected[k.params[i].name], "(%s slot %zu)",
             k.name.c_str(), i);
      EXPECT(pointers[i] == storage[i].bytes);
      EXPECT(reinterpret_cast<uintptr_t>(pointers[i]) % 64 == 0);
    }
  }
}

//===- Forward.cpp - fa4_fwd: validate, select, launch --------------------===//
//
// The dense forward entry point. Every argument is checked before the driver
// is touched, so bad input gets a status that names it even on a machine
// with no GPU. The kernel is the embedded one whose features equal the
// request's, and its arguments are packed by the names its metadata lists.
//
//===----------------------------------------------------------------------===//

#include "Entry.h"
#include "Status.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace fa4::rt;

extern "C" void fa4_fwd_params_init(fa4_fwd_params *params) {
  if (!params)
    return;
  std::memset(params, 0, sizeof(*params));
  params->dtype = FA4_DTYPE_BF16;
  params->load_path = FA4_LOAD_PATH_AUTO;
  params->window_left = params->window_right = -1;
}

extern "C" uint64_t fa4_fwd_params_size(void) {
  return sizeof(fa4_fwd_params);
}

/// S_dmask: FlashAttention-2's (batch, nheads_q, rows rounded, columns
/// rounded) in the input dtype, rounded up to 128 (every tile divides 128,
/// so the kernel's visited blocks fit).
fa4_status fa4::rt::resolveProbs(const void *sDmask, const int64_t given[3],
                                 int64_t batch, int64_t nheadsQ, int64_t rows,
                                 int64_t cols, ScoreMods &mods,
                                 int64_t strides[3]) {
  if (!sDmask)
    return FA4_SUCCESS;
  if (!mods.dropout)
    return fail(FA4_ERROR_INVALID_ARGUMENT,
                "s_dmask needs dropout_p > 0 (FlashAttention-2 returns "
                "S_dmask only with dropout)");
  if (fa4_status s = checkAligned(sDmask, 4, "s_dmask"); s != FA4_SUCCESS)
    return s;
  mods.returnProbs = true;
  rows = probsExtent(rows);
  cols = probsExtent(cols);
  bool unset = given[0] == 0 && given[1] == 0 && given[2] == 0;
  strides[0] = unset ? nheadsQ * rows * cols : given[0];
  strides[1] = unset ? rows * cols : given[1];
  strides[2] = unset ? cols : given[2];
  if (strides[0] < 0 || strides[1] < 0 || strides[2] < 0)
    return fail(FA4_ERROR_INVALID_STRIDE, "s_dmask: strides must be >= 0");
  if (strides[2] > kMaxSliceOffset)
    return fail(FA4_ERROR_OVERFLOW, "s_dmask: the row stride must be < 2^31");
  // The kernel addresses a (batch, head) matrix's rows in 32 bits.
  if ((rows - 1) * strides[2] + cols > kMaxSliceOffset)
    return fail(FA4_ERROR_OVERFLOW,
                format("s_dmask: a (batch, head) matrix of %lld x %lld at row "
                       "stride %lld spans 2^31 elements or more",
                       static_cast<long long>(rows),
                       static_cast<long long>(cols),
                       static_cast<long long>(strides[2])));
  static const char *const names[4] = {"batch", "head", "row", "column"};
  int64_t sizes[4] = {batch, nheadsQ, rows, cols};
  int64_t all[4] = {strides[0], strides[1], strides[2], 1};
  return checkLayout("s_dmask", 4, sizes, all, names, /*elementBytes=*/2,
                     /*isOutput=*/true);
}

fa4_status fa4::rt::validateForward(const fa4_fwd_params &p,
                                    ForwardTensors &t) {
  Tensor &q = t.q, &k = t.k, &v = t.v, &o = t.o;
  int64_t *lseStrides = t.lseStrides;
  int dtype = getRawEnum(p.dtype);
  if (dtype != FA4_DTYPE_BF16 && dtype != FA4_DTYPE_FP16)
    return fail(FA4_ERROR_INVALID_DTYPE,
                format("dtype %d is not FA4_DTYPE_BF16 or FA4_DTYPE_FP16",
                       dtype));
  struct {
    const char *name;
    int64_t value;
    int64_t min;
  } sizes[] = {{"batch", p.batch, 0},          {"seqlen_q", p.seqlen_q, 0},
               {"seqlen_k", p.seqlen_k, 0},    {"nheads_q", p.nheads_q, 0},
               {"nheads_kv", p.nheads_kv, 0},  {"head_dim", p.head_dim, 1},
               {"head_dim_v", p.head_dim_v, 1}};
  for (const auto &size : sizes)
    if (size.value < size.min)
      return fail(FA4_ERROR_INVALID_SHAPE,
                  format("%s must be %s, got %lld", size.name,
                         size.min == 0 ? "non-negative" : "positive",
                         static_cast<long long>(size.value)));
  int loadPath = getRawEnum(p.load_path);
  if (loadPath != FA4_LOAD_PATH_AUTO && loadPath != FA4_LOAD_PATH_CP_ASYNC &&
      loadPath != FA4_LOAD_PATH_TMA)
    return fail(FA4_ERROR_INVALID_ARGUMENT,
                format("load_path %d is not a fa4_load_path", loadPath));
  if (fa4_status s = resolveSoftmaxScale(p.softmax_scale, p.head_dim, t.scale);
      s != FA4_SUCCESS)
    return s;
  if (fa4_status s = resolveScoreMods(
          p.causal, p.local, p.window_left, p.window_right, p.softcap, t.scale,
          p.seqlen_k, p.seqlen_q + p.seqlen_k, t.mods);
      s != FA4_SUCCESS)
    return s;
  if (fa4_status s = resolveAlibi(p.alibi_slopes, p.alibi_slopes_batch_stride,
                                  p.batch, p.nheads_q, t.mods);
      s != FA4_SUCCESS)
    return s;
  if (fa4_status s = resolveSink(p.learnable_sink, t.mods); s != FA4_SUCCESS)
    return s;
  if (fa4_status s =
          resolveDropout(p.dropout_p, p.dropout_seed, p.dropout_offset,
                         p.dropout_offset_ptr, t.mods);
      s != FA4_SUCCESS)
    return s;
  if (fa4_status s =
          resolveBlockSparse(p.block_sparse, p.nheads_q, p.seqlen_q, t.mods);
      s != FA4_SUCCESS)
    return s;
  // No query rows: nothing to compute, and the (empty) tensors' pointers
  // may be anything, NULL included.
  t.empty = p.batch == 0 || p.seqlen_q == 0 || p.nheads_q == 0;
  if (t.empty)
    return FA4_SUCCESS;
  if (p.nheads_kv < 1)
    return fail(FA4_ERROR_INVALID_SHAPE,
                format("nheads_kv must be positive, got %lld",
                       static_cast<long long>(p.nheads_kv)));
  if (p.batch > kMaxGridYZ || p.nheads_q > kMaxGridYZ)
    return fail(FA4_ERROR_INVALID_SHAPE,
                format("batch (%lld) and nheads_q (%lld) must be at most %lld",
                       static_cast<long long>(p.batch),
                       static_cast<long long>(p.nheads_q),
                       static_cast<long long>(kMaxGridYZ)));
  if (p.seqlen_q > kMaxSliceOffset || p.seqlen_k > kMaxSliceOffset)
    return fail(FA4_ERROR_OVERFLOW, "seqlen_q and seqlen_k must be < 2^31");

  // Head dims: what the embedded kernels provide.
  if (fa4_status s = checkHeadDims(p.head_dim, p.head_dim_v); s != FA4_SUCCESS)
    return s;
  if (p.nheads_q % p.nheads_kv != 0)
    return fail(FA4_ERROR_INVALID_HEAD_RATIO,
                format("nheads_q (%lld) is not a multiple of nheads_kv (%lld)",
                       static_cast<long long>(p.nheads_q),
                       static_cast<long long>(p.nheads_kv)));

  q = {"q", p.q, p.seqlen_q, p.nheads_q, p.head_dim, {}};
  k = {"k", p.k, p.seqlen_k, p.nheads_kv, p.head_dim, {}};
  v = {"v", p.v, p.seqlen_k, p.nheads_kv, p.head_dim_v, {}};
  o = {"out", p.out, p.seqlen_q, p.nheads_q, p.head_dim_v, {}};
  resolveStrides(q, p.q_strides);
  resolveStrides(k, p.k_strides);
  resolveStrides(v, p.v_strides);
  resolveStrides(o, p.out_strides);
  q.batch = k.batch = v.batch = o.batch = p.batch;
  if (fa4_status s = checkTensor(q, false); s != FA4_SUCCESS)
    return s;
  // With no keys the kernel never reads K or V.
  if (p.seqlen_k > 0) {
    if (fa4_status s = checkTensor(k, false); s != FA4_SUCCESS)
      return s;
    if (fa4_status s = checkTensor(v, false); s != FA4_SUCCESS)
      return s;
  }
  if (fa4_status s = checkTensor(o, true); s != FA4_SUCCESS)
    return s;

  bool lseUnset = p.lse_strides[0] == 0 && p.lse_strides[1] == 0 &&
                  p.lse_strides[2] == 0;
  lseStrides[0] = lseUnset ? p.nheads_q * p.seqlen_q : p.lse_strides[0];
  lseStrides[1] = lseUnset ? p.seqlen_q : p.lse_strides[1];
  lseStrides[2] = lseUnset ? 1 : p.lse_strides[2];
  if (p.lse) {
    if (fa4_status s = checkAligned(p.lse, 4, "lse"); s != FA4_SUCCESS)
      return s;
    if (lseStrides[2] != 1)
      return fail(FA4_ERROR_INVALID_STRIDE,
                  format("lse: the stride of dim 2 (seq) must be 1, got %lld",
                         static_cast<long long>(lseStrides[2])));
    if (lseStrides[0] < 0 || lseStrides[1] < 0)
      return fail(FA4_ERROR_INVALID_STRIDE, "lse: strides must be >= 0");
    static const char *const names[3] = {"batch", "head", "seq"};
    int64_t lseSizes[3] = {p.batch, p.nheads_q, p.seqlen_q};
    if (fa4_status s = checkLayout("lse", 3, lseSizes, lseStrides, names,
                                   /*elementBytes=*/4, /*isOutput=*/true);
        s != FA4_SUCCESS)
      return s;
  }
  return resolveProbs(p.s_dmask, p.s_dmask_strides, p.batch, p.nheads_q,
                      p.seqlen_q, p.seqlen_k, t.mods, t.probsStrides);
}

FeatureMap fa4::rt::getForwardRequest(const fa4_fwd_params &p,
                                      const ScoreMods &mods, const char *path) {
  FeatureMap request = {{"kernel", "attention"},
                        {"dtype", getDtypeName(p.dtype)},
                        {"head_dim", std::to_string(p.head_dim)},
                        {"head_dim_v", std::to_string(p.head_dim_v)},
                        {"varlen", "false"},
                        {"paged_kv", "false"},
                        {"kv_cache", "false"},
                        {"split_kv", "false"},
                        {"load_path", path}};
  mods.addFeatures(request);
  return request;
}

fa4_status fa4::rt::prepareForward(const fa4_fwd_params &p,
                                   const ForwardTensors &t,
                                   const KernelInfo &kernel, Launch &launch) {
  launch.kernel = &kernel;
  launch.dtype = p.dtype;
  KernelArgs &args = launch.args;
  args.setPtr("q", t.q.data);
  args.setPtr("k", t.k.data);
  args.setPtr("v", t.v.data);
  args.setPtr("o", t.o.data);
  args.setPtr("lse", p.lse);
  args.setI32("seqlen_q", static_cast<int32_t>(p.seqlen_q));
  args.setI32("seqlen_k", static_cast<int32_t>(p.seqlen_k));
  args.setI32("head_ratio", static_cast<int32_t>(p.nheads_q / p.nheads_kv));
  for (const Tensor *tensor : {&t.q, &t.k, &t.v, &t.o}) {
    std::string prefix = tensor == &t.o ? "o" : tensor->name;
    args.setI64(prefix + "_batch_stride", tensor->strides[0]);
    args.setI64(prefix + "_head_stride", tensor->strides[2]);
    args.setI32(prefix + "_row_stride", static_cast<int32_t>(tensor->strides[1]));
  }
  args.setI64("lse_batch_stride", t.lseStrides[0]);
  args.setI64("lse_head_stride", t.lseStrides[1]);
  args.setF32("softmax_scale", t.scale);
  t.mods.setArgs(launch);
  if (fa4_status s = setBlockSparseArgs(t.mods, launch); s != FA4_SUCCESS)
    return s;
  if (p.s_dmask) {
    args.setPtr("probs", p.s_dmask);
    args.setI64("probs_batch_stride", t.probsStrides[0]);
    args.setI64("probs_head_stride", t.probsStrides[1]);
    args.setI32("probs_row_stride", static_cast<int32_t>(t.probsStrides[2]));
  }
  launch.sizes = {{"batch", p.batch},       {"nheads_q", p.nheads_q},
                  {"nheads_kv", p.nheads_kv}, {"seqlen_q", p.seqlen_q},
                  {"seqlen_k", p.seqlen_k}};
  launch.views = {{"q", t.q}, {"k", t.k}, {"v", t.v}};
  launch.viewBatch = p.batch;
  return FA4_SUCCESS;
}

/// Whether the automatic dispatch prefers the TMA kernel where both load
/// paths may run, from our H100 measurements of the sm_90 build of the SM120
/// configuration (bench/RESULTS.md, runs 8, 9 and 11).
static bool preferTma(const fa4_fwd_params &p, const ScoreMods &mods) {
  // 2026-11-25, H100, bf16, B*S = 16384: TMA against cp.async at seqlen
  // 512..16384, causal and not. d=64: cp.async faster in 8 of 12 shapes
  // (by up to 15% at 512) -> cp.async. d=96: TMA faster in 10 of 12 (up to
  // +18%) -> TMA. d=128: TMA faster in 14 of 16, GQA included (up to +12%
  // causal) -> TMA. As published for SM120: TMA gains at d=128, loses at 64.
  // 2026-12-04, H200 (run 50): the cp.async kernel of d = 96 on four warps
  // of 32 rows (plain or causal) beats the TMA kernel by 0-22% -> cp.async
  // there; (run 54) with a window too, by 14-15%. With a softcap or ALiBi
  // the cp.async kernel keeps its eight 16-row warps and TMA stays first.
  if (p.head_dim > 96)
    return true;
  return p.head_dim == 96 && (mods.softcap || mods.alibi);
}

extern "C" fa4_status fa4_fwd(const fa4_fwd_params *params, void *stream) {
  clearError();
  if (!params)
    return fail(FA4_ERROR_NULL_POINTER, "params is NULL");
  const fa4_fwd_params &p = *params;
  ForwardTensors t;
  if (fa4_status s = validateForward(p, t); s != FA4_SUCCESS)
    return s;
  if (t.empty)
    return FA4_SUCCESS;

  const CudaDriver *driver;
  CUcontext context;
  const char *target;
  if (fa4_status s = getDevice(driver, context, target); s != FA4_SUCCESS)
    return s;
  // ---- Load path: the SPEC's dispatch, then our measurements ----
  // TMA iff no page table and not varlen (both true of fa4_fwd), no block
  // sparsity and no dropout (no TMA kernel has them, so such a request
  // finds none), a TMA kernel exists and its tensor maps encode.
  auto find = [&](const char *path) -> const KernelInfo * {
    std::vector<const KernelInfo *> found =
        findKernels(target, getForwardRequest(p, t.mods, path));
    return found.empty() ? nullptr : found.front();
  };
  const KernelInfo *tma = find("tma");
  const KernelInfo *cpAsync = find("cp_async");
  // A combination of masks and modifications without a kernel of its own
  // runs on the switchable kernel (cp.async).
  const ScoreMods asked = t.mods;
  if (!tma && !cpAsync && t.mods.makeSwitchable()) {
    cpAsync = find("cp_async");
    if (!cpAsync)
      t.mods = asked;
  }
  auto noKernel = [&](const char *path) {
    const char *forced = std::getenv("FA4_KERNEL");
    return fail(FA4_ERROR_NO_KERNEL,
                format("no embedded kernel for %s head_dim %lld %s (%s) on "
                       "%s%s%s",
                       getDtypeName(p.dtype),
                       static_cast<long long>(p.head_dim),
                       asked.describe().c_str(), path, target,
                       forced && *forced ? " named " : "",
                       forced && *forced ? forced : ""));
  };
  auto prepare = [&](const KernelInfo &kernel, Launch &launch) {
    if (fa4_status s = prepareForward(p, t, kernel, launch); s != FA4_SUCCESS)
      return s;
    return encodeTensorMaps(*driver, launch);
  };
  Launch launch;
  switch (p.load_path) {
  case FA4_LOAD_PATH_TMA:
    if (!tma)
      return noKernel("tma");
    if (fa4_status s = prepare(*tma, launch); s != FA4_SUCCESS)
      return s;
    break;
  case FA4_LOAD_PATH_CP_ASYNC:
    if (!cpAsync)
      return noKernel("cp_async");
    if (fa4_status s = prepare(*cpAsync, launch); s != FA4_SUCCESS)
      return s;
    break;
  case FA4_LOAD_PATH_AUTO: {
    // A tensor map that does not encode (e.g. a zero stride) falls back.
    bool done = false;
    if (tma && preferTma(p, t.mods)) {
      done = prepare(*tma, launch) == FA4_SUCCESS;
      if (!done)
        launch = Launch();
    }
    if (!done) {
      const KernelInfo *kernel = cpAsync ? cpAsync : tma;
      if (!kernel)
        return noKernel("any load path");
      if (fa4_status s = prepare(*kernel, launch); s != FA4_SUCCESS)
        return s;
    }
    clearError();
    break;
  }
  }
  return launchKernel(*driver, context, launch, static_cast<CUstream>(stream));
}

extern "C" fa4_status fa4_fwd_probs_block_n(const fa4_fwd_params *params,
                                            int64_t *blockN) {
  clearError();
  if (!params || !blockN)
    return fail(FA4_ERROR_NULL_POINTER,
                params ? "block_n is NULL" : "params is NULL");
  fa4_fwd_params p = *params;
  p.s_dmask = nullptr;
  ForwardTensors t;
  if (fa4_status s = validateForward(p, t); s != FA4_SUCCESS)
    return s;
  if (!t.mods.dropout)
    return fail(FA4_ERROR_INVALID_ARGUMENT,
                "S_dmask needs dropout_p > 0 (FlashAttention-2 returns "
                "S_dmask only with dropout)");
  t.mods.returnProbs = true;
  const CudaDriver *driver;
  CUcontext context;
  const char *target;
  if (fa4_status s = getDevice(driver, context, target); s != FA4_SUCCESS)
    return s;
  std::vector<const KernelInfo *> found =
      findKernels(target, getForwardRequest(p, t.mods, "cp_async"));
  // The kernel fa4_fwd would pick: the switchable one where the
  // combination has none of its own.
  const ScoreMods asked = t.mods;
  if (found.empty() && t.mods.makeSwitchable())
    found = findKernels(target, getForwardRequest(p, t.mods, "cp_async"));
  if (found.empty())
    return fail(FA4_ERROR_NO_KERNEL,
                format("no embedded kernel for %s head_dim %lld %s on %s",
                       getDtypeName(p.dtype),
                       static_cast<long long>(p.head_dim),
                       asked.describe().c_str(), target));
  auto it = found.front()->config.find("tile_n");
  if (it == found.front()->config.end())
    return fail(FA4_ERROR_NO_KERNEL, "the S_dmask kernel states no tile_n");
  *blockN = it->second;
  return FA4_SUCCESS;
}

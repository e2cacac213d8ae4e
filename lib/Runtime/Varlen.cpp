//===- Varlen.cpp - fa4_varlen_fwd: packed sequences, paged K/V -----------===//
//
// The varlen entry point (FlashAttention-2's flash_attn_varlen_func, with
// its block_table). What the host sees is validated before the driver is
// touched; what only the device holds is the kernel's to clamp and, in the
// checking mode, the host's to verify after a synchronization.
//
//===----------------------------------------------------------------------===//

#include "Entry.h"
#include "Status.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace fa4::rt;

extern "C" void fa4_varlen_fwd_params_init(fa4_varlen_fwd_params *params) {
  if (!params)
    return;
  std::memset(params, 0, sizeof(*params));
  params->dtype = FA4_DTYPE_BF16;
  params->window_left = params->window_right = -1;
}

extern "C" uint64_t fa4_varlen_fwd_params_size(void) {
  return sizeof(fa4_varlen_fwd_params);
}

/// A packed (rows, heads, dim) tensor with (row, head, dim) strides.
static Tensor packedTensor(const char *name, const void *data, int64_t rows,
                           int64_t heads, int64_t dim,
                           const int64_t strides[3]) {
  Tensor t{name, data, rows, heads, dim, {}};
  int64_t given[4] = {0, strides[0], strides[1], strides[2]};
  resolveStrides(t, given);
  t.strides[0] = 0; // no batch dimension
  return t;
}

static fa4_status checkIndexArray(const int32_t *ptr, const char *name,
                                  bool required) {
  if (!ptr)
    return required ? fail(FA4_ERROR_NULL_POINTER, format("%s is NULL", name))
                    : FA4_SUCCESS;
  return checkAligned(ptr, 4, name);
}

fa4_status fa4::rt::validateVarlen(const fa4_varlen_fwd_params &p,
                                   VarlenTensors &t) {
  int dtype = getRawEnum(p.dtype);
  if (dtype != FA4_DTYPE_BF16 && dtype != FA4_DTYPE_FP16)
    return fail(FA4_ERROR_INVALID_DTYPE,
                format("dtype %d is not FA4_DTYPE_BF16 or FA4_DTYPE_FP16",
                       dtype));
  t.paged = p.block_table != nullptr;
  struct {
    const char *name;
    int64_t value;
    int64_t min;
  } sizes[] = {{"batch", p.batch, 0},
               {"total_q", p.total_q, 0},
               {"total_k", p.total_k, 0},
               {"max_seqlen_q", p.max_seqlen_q, 0},
               {"max_seqlen_k", p.max_seqlen_k, 0},
               {"nheads_q", p.nheads_q, 0},
               {"nheads_kv", p.nheads_kv, 0},
               {"head_dim", p.head_dim, 1},
               {"head_dim_v", p.head_dim_v, 1}};
  for (const auto &size : sizes)
    if (size.value < size.min)
      return fail(FA4_ERROR_INVALID_SHAPE,
                  format("%s must be %s, got %lld", size.name,
                         size.min == 0 ? "non-negative" : "positive",
                         static_cast<long long>(size.value)));
  if (fa4_status s = resolveSoftmaxScale(p.softmax_scale, p.head_dim, t.scale);
      s != FA4_SUCCESS)
    return s;
  // A sequence has at most total_q queries and total_k keys (paged: the
  // table's max_pages * page_size); sizes were checked non-negative.
  long double keys = p.block_table
                         ? static_cast<long double>(p.max_pages) * p.page_size
                         : static_cast<long double>(p.total_k);
  long double positions = static_cast<long double>(p.total_q) + keys;
  if (fa4_status s = resolveScoreMods(
          p.causal, p.local, p.window_left, p.window_right, p.softcap, t.scale,
          /*knownSeqlenK=*/-1,
          positions > INT64_MAX / 2 ? INT64_MAX / 2
                                    : static_cast<int64_t>(positions),
          t.mods);
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
  if (fa4_status s = resolveBlockSparse(p.block_sparse, p.nheads_q,
                                        p.max_seqlen_q, t.mods);
      s != FA4_SUCCESS)
    return s;
  if (p.s_dmask && p.block_table)
    return fail(FA4_ERROR_UNSUPPORTED_FEATURE,
                "s_dmask is not built with a paged K/V cache (block_table)");
  if (fa4_status s = resolveProbs(p.s_dmask, p.s_dmask_strides, p.batch,
                                  p.nheads_q, p.max_seqlen_q, p.max_seqlen_k,
                                  t.mods, t.probsStrides);
      s != FA4_SUCCESS)
    return s;
  // No sequences, query rows or heads: nothing to compute, and the (empty)
  // tensors' pointers may be anything, NULL included.
  t.empty = p.batch == 0 || p.total_q == 0 || p.nheads_q == 0;
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
  for (auto [name, value] : {std::pair<const char *, int64_t>{"total_q", p.total_q},
                             {"total_k", p.total_k},
                             {"max_seqlen_q", p.max_seqlen_q},
                             {"max_seqlen_k", p.max_seqlen_k}})
    if (value > kMaxSliceOffset)
      return fail(FA4_ERROR_OVERFLOW,
                  format("%s (%lld) must be < 2^31", name,
                         static_cast<long long>(value)));
  if (fa4_status s = checkHeadDims(p.head_dim, p.head_dim_v); s != FA4_SUCCESS)
    return s;
  if (p.nheads_q % p.nheads_kv != 0)
    return fail(FA4_ERROR_INVALID_HEAD_RATIO,
                format("nheads_q (%lld) is not a multiple of nheads_kv (%lld)",
                       static_cast<long long>(p.nheads_q),
                       static_cast<long long>(p.nheads_kv)));
  if (fa4_status s = checkIndexArray(p.cu_seqlens_q, "cu_seqlens_q", true);
      s != FA4_SUCCESS)
    return s;
  if (fa4_status s = checkIndexArray(p.cu_seqlens_k, "cu_seqlens_k", true);
      s != FA4_SUCCESS)
    return s;
  if (fa4_status s = checkIndexArray(p.seqused_k, "seqused_k", false);
      s != FA4_SUCCESS)
    return s;

  t.q = packedTensor("q", p.q, p.total_q, p.nheads_q, p.head_dim, p.q_strides);
  t.o = packedTensor("out", p.out, p.total_q, p.nheads_q, p.head_dim_v,
                     p.out_strides);
  if (fa4_status s = checkTensor(t.q, false); s != FA4_SUCCESS)
    return s;
  if (fa4_status s = checkTensor(t.o, true); s != FA4_SUCCESS)
    return s;

  if (t.paged) {
    if (fa4_status s = checkIndexArray(p.block_table, "block_table", true);
        s != FA4_SUCCESS)
      return s;
    if (p.page_size <= 0 || p.page_size % 16 != 0)
      return fail(FA4_ERROR_INVALID_SHAPE,
                  format("page_size must be a positive multiple of 16, got "
                         "%lld",
                         static_cast<long long>(p.page_size)));
    if (p.max_pages < 1 || p.num_pages < 1)
      return fail(FA4_ERROR_INVALID_SHAPE,
                  format("a paged cache needs max_pages >= 1 and num_pages >= "
                         "1, got %lld and %lld",
                         static_cast<long long>(p.max_pages),
                         static_cast<long long>(p.num_pages)));
    int64_t tableStride = p.block_table_stride ? p.block_table_stride
                                               : p.max_pages;
    if (tableStride < p.max_pages)
      return fail(FA4_ERROR_INVALID_STRIDE,
                  format("block_table_stride (%lld) is below max_pages "
                         "(%lld): table rows would overlap",
                         static_cast<long long>(tableStride),
                         static_cast<long long>(p.max_pages)));
    if (p.num_pages > kMaxSliceOffset ||
        static_cast<long double>(p.max_pages) * p.page_size > kMaxSliceOffset ||
        static_cast<long double>(tableStride) * p.batch > kMaxSliceOffset)
      return fail(FA4_ERROR_OVERFLOW,
                  "num_pages, max_pages * page_size and block_table_stride * "
                  "batch must be < 2^31");
    // One page is a (page_size, heads, dim) tensor; pages sit a page stride
    // apart.
    t.k = packedTensor("k", p.k, p.page_size, p.nheads_kv, p.head_dim,
                       p.k_strides);
    t.v = packedTensor("v", p.v, p.page_size, p.nheads_kv, p.head_dim_v,
                       p.v_strides);
    for (auto [tensor, given] :
         {std::pair<Tensor *, int64_t>{&t.k, p.k_page_stride},
          {&t.v, p.v_page_stride}}) {
      int64_t pageStride = given ? given : p.page_size * tensor->strides[1];
      if (pageStride < 0 || pageStride % 8 != 0)
        return fail(FA4_ERROR_INVALID_STRIDE,
                    format("%s: the page stride (%lld elements) must be a "
                           "non-negative multiple of 8",
                           tensor->name, static_cast<long long>(pageStride)));
      // Checked as a (num_pages, page_size, heads, dim) tensor.
      tensor->strides[0] = pageStride;
      tensor->batch = p.num_pages;
      if (fa4_status s = checkTensor(*tensor, false); s != FA4_SUCCESS)
        return s;
    }
  } else {
    if (p.block_table_stride || p.max_pages || p.num_pages || p.page_size ||
        p.k_page_stride || p.v_page_stride)
      return fail(FA4_ERROR_INVALID_ARGUMENT,
                  "page_size, max_pages, num_pages and the page strides are "
                  "set but block_table is NULL");
    t.k = packedTensor("k", p.k, p.total_k, p.nheads_kv, p.head_dim,
                       p.k_strides);
    t.v = packedTensor("v", p.v, p.total_k, p.nheads_kv, p.head_dim_v,
                       p.v_strides);
    // With no keys at all the kernel never reads K or V.
    if (p.total_k > 0) {
      if (fa4_status s = checkTensor(t.k, false); s != FA4_SUCCESS)
        return s;
      if (fa4_status s = checkTensor(t.v, false); s != FA4_SUCCESS)
        return s;
    }
  }

  bool lseUnset = p.lse_strides[0] == 0 && p.lse_strides[1] == 0;
  t.lseStrides[0] = lseUnset ? p.total_q : p.lse_strides[0];
  t.lseStrides[1] = lseUnset ? 1 : p.lse_strides[1];
  if (p.lse) {
    if (fa4_status s = checkAligned(p.lse, 4, "lse"); s != FA4_SUCCESS)
      return s;
    if (t.lseStrides[1] != 1)
      return fail(FA4_ERROR_INVALID_STRIDE,
                  format("lse: the token stride must be 1, got %lld",
                         static_cast<long long>(t.lseStrides[1])));
    if (t.lseStrides[0] < 0)
      return fail(FA4_ERROR_INVALID_STRIDE,
                  format("lse: the head stride is negative (%lld)",
                         static_cast<long long>(t.lseStrides[0])));
    static const char *const names[2] = {"head", "token"};
    int64_t lseSizes[2] = {p.nheads_q, p.total_q};
    if (fa4_status s = checkLayout("lse", 2, lseSizes, t.lseStrides, names,
                                   /*elementBytes=*/4, /*isOutput=*/true);
        s != FA4_SUCCESS)
      return s;
  }
  return FA4_SUCCESS;
}

FeatureMap fa4::rt::getVarlenRequest(const fa4_varlen_fwd_params &p,
                                     const ScoreMods &mods) {
  FeatureMap request = {{"kernel", "attention"},
                        {"dtype", getDtypeName(p.dtype)},
                        {"head_dim", std::to_string(p.head_dim)},
                        {"head_dim_v", std::to_string(p.head_dim_v)},
                        {"varlen", "true"},
                        {"paged_kv", p.block_table ? "true" : "false"},
                        {"kv_cache", "false"},
                        {"split_kv", "false"},
                        {"load_path", "cp_async"}};
  mods.addFeatures(request);
  return request;
}

fa4_status fa4::rt::prepareVarlen(const fa4_varlen_fwd_params &p,
                                  const VarlenTensors &t,
                                  const KernelInfo &kernel, Launch &launch) {
  launch.kernel = &kernel;
  launch.dtype = p.dtype;
  KernelArgs &args = launch.args;
  args.setPtr("q", t.q.data);
  args.setPtr("k", t.k.data);
  args.setPtr("v", t.v.data);
  args.setPtr("o", t.o.data);
  args.setPtr("lse", p.lse);
  args.setPtr("cu_seqlens_q", p.cu_seqlens_q);
  args.setPtr("cu_seqlens_k", p.cu_seqlens_k);
  args.setPtr("seqused_k", p.seqused_k);
  args.setI32("total_q", static_cast<int32_t>(p.total_q));
  args.setI32("total_k", static_cast<int32_t>(p.total_k));
  args.setI32("head_ratio", static_cast<int32_t>(p.nheads_q / p.nheads_kv));
  for (const Tensor *tensor : {&t.q, &t.k, &t.v, &t.o}) {
    std::string prefix = tensor == &t.o ? "o" : tensor->name;
    args.setI64(prefix + "_head_stride", tensor->strides[2]);
    args.setI32(prefix + "_row_stride", static_cast<int32_t>(tensor->strides[1]));
  }
  args.setI64("lse_head_stride", t.lseStrides[0]);
  args.setF32("softmax_scale", t.scale);
  t.mods.setArgs(launch);
  if (fa4_status s = setBlockSparseArgs(t.mods, launch); s != FA4_SUCCESS)
    return s;
  if (p.s_dmask) {
    args.setPtr("probs", p.s_dmask);
    args.setI64("probs_batch_stride", t.probsStrides[0]);
    args.setI64("probs_head_stride", t.probsStrides[1]);
    args.setI32("probs_row_stride", static_cast<int32_t>(t.probsStrides[2]));
    args.setI32("probs_rows",
                static_cast<int32_t>(probsExtent(p.max_seqlen_q)));
    args.setI32("probs_cols",
                static_cast<int32_t>(probsExtent(p.max_seqlen_k)));
  }
  if (t.paged) {
    args.setI64("k_page_stride", t.k.strides[0]);
    args.setI64("v_page_stride", t.v.strides[0]);
    args.setPtr("block_table", p.block_table);
    args.setI32("block_table_stride",
                static_cast<int32_t>(p.block_table_stride ? p.block_table_stride
                                                          : p.max_pages));
    args.setI32("page_size", static_cast<int32_t>(p.page_size));
    DivisionReciprocal page = getDivisionReciprocal(p.page_size);
    args.setI32("page_magic", static_cast<int32_t>(page.magic));
    args.setI32("page_shift", page.shift);
    args.setI32("max_pages", static_cast<int32_t>(p.max_pages));
    args.setI32("num_pages", static_cast<int32_t>(p.num_pages));
  }
  launch.sizes = {{"batch", p.batch},
                  {"nheads_q", p.nheads_q},
                  {"nheads_kv", p.nheads_kv},
                  {"total_q", p.total_q},
                  {"total_k", p.total_k},
                  {"max_seqlen_q", p.max_seqlen_q},
                  {"max_seqlen_k", p.max_seqlen_k}};
  return FA4_SUCCESS;
}

//===----------------------------------------------------------------------===//
// Checking mode
//===----------------------------------------------------------------------===//

/// Copies `count` int32 values from the device.
static fa4_status download(const CudaDriver &d, const int32_t *ptr,
                           int64_t count, std::vector<int32_t> &out,
                           CUstream stream) {
  out.assign(static_cast<size_t>(count), 0);
  if (count == 0)
    return FA4_SUCCESS;
  FA4_CUDA_CHECK(d, cuMemcpyDtoHAsync_v2, out.data(),
                 reinterpret_cast<CUdeviceptr>(ptr),
                 static_cast<size_t>(count) * sizeof(int32_t), stream);
  return FA4_SUCCESS;
}

fa4_status fa4::rt::checkVarlenOnDevice(const CudaDriver &d,
                                        const fa4_varlen_fwd_params &p,
                                        CUstream stream) {
  bool paged = p.block_table != nullptr;
  std::vector<int32_t> cuQ, cuK, used, table;
  int64_t tableStride = p.block_table_stride ? p.block_table_stride
                                             : p.max_pages;
  if (fa4_status s = download(d, p.cu_seqlens_q, p.batch + 1, cuQ, stream);
      s != FA4_SUCCESS)
    return s;
  if (fa4_status s = download(d, p.cu_seqlens_k, p.batch + 1, cuK, stream);
      s != FA4_SUCCESS)
    return s;
  if (p.seqused_k)
    if (fa4_status s = download(d, p.seqused_k, p.batch, used, stream);
        s != FA4_SUCCESS)
      return s;
  if (paged && p.batch > 0)
    if (fa4_status s = download(d, p.block_table,
                                (p.batch - 1) * tableStride + p.max_pages,
                                table, stream);
        s != FA4_SUCCESS)
      return s;
  FA4_CUDA_CHECK(d, cuStreamSynchronize, stream);

  auto bad = [](std::string message) {
    return fail(FA4_ERROR_INVALID_DEVICE_VALUE, std::move(message));
  };
  // cu_seqlens: non-decreasing from >= 0, ending within the tensors' rows.
  auto checkCu = [&](const std::vector<int32_t> &cu, const char *name,
                     int64_t total, bool checkTotal) -> fa4_status {
    if (cu[0] < 0)
      return bad(format("%s[0] = %d is negative", name, cu[0]));
    for (int64_t b = 0; b < p.batch; ++b)
      if (cu[b + 1] < cu[b])
        return bad(format("%s decreases at batch entry %lld: %s[%lld] = %d, "
                          "%s[%lld] = %d",
                          name, static_cast<long long>(b), name,
                          static_cast<long long>(b), cu[b], name,
                          static_cast<long long>(b + 1), cu[b + 1]));
    if (checkTotal && cu[p.batch] > total)
      return bad(format("%s[%lld] = %d, but the tensors have %lld rows", name,
                        static_cast<long long>(p.batch), cu[p.batch],
                        static_cast<long long>(total)));
    return FA4_SUCCESS;
  };
  if (fa4_status s = checkCu(cuQ, "cu_seqlens_q", p.total_q, true);
      s != FA4_SUCCESS)
    return s;
  if (fa4_status s = checkCu(cuK, "cu_seqlens_k", p.total_k, !paged);
      s != FA4_SUCCESS)
    return s;
  int64_t capacity = p.max_pages * p.page_size;
  for (int64_t b = 0; b < p.batch; ++b) {
    long long bb = static_cast<long long>(b);
    int64_t lenQ = cuQ[b + 1] - cuQ[b];
    if (lenQ > p.max_seqlen_q)
      return bad(format("max_seqlen_q (%lld) is below the query length of "
                        "batch entry %lld (%lld)",
                        static_cast<long long>(p.max_seqlen_q), bb,
                        static_cast<long long>(lenQ)));
    int64_t lenK = cuK[b + 1] - cuK[b];
    if (p.seqused_k) {
      if (used[b] < 0 || (!paged && used[b] > lenK))
        return bad(format("seqused_k[%lld] = %d is outside [0, %lld], the "
                          "keys of batch entry %lld",
                          bb, used[b], static_cast<long long>(lenK), bb));
      lenK = used[b];
    }
    if (lenK > p.max_seqlen_k)
      return bad(format("max_seqlen_k (%lld) is below the key length of "
                        "batch entry %lld (%lld)",
                        static_cast<long long>(p.max_seqlen_k), bb,
                        static_cast<long long>(lenK)));
    if (!paged)
      continue;
    if (lenK > capacity)
      return bad(format("batch entry %lld has %lld keys, more than its %lld "
                        "pages of %lld hold",
                        bb, static_cast<long long>(lenK),
                        static_cast<long long>(p.max_pages),
                        static_cast<long long>(p.page_size)));
    for (int64_t j = 0; j * p.page_size < lenK; ++j) {
      int32_t page = table[static_cast<size_t>(b * tableStride + j)];
      if (page < 0 || page >= p.num_pages)
        return bad(format("block_table[%lld][%lld] = %d is not a page (the "
                          "cache has %lld)",
                          bb, static_cast<long long>(j), page,
                          static_cast<long long>(p.num_pages)));
    }
  }
  return FA4_SUCCESS;
}

//===----------------------------------------------------------------------===//
// Entry point
//===----------------------------------------------------------------------===//

extern "C" fa4_status fa4_varlen_fwd(const fa4_varlen_fwd_params *params,
                                     void *stream) {
  clearError();
  if (!params)
    return fail(FA4_ERROR_NULL_POINTER, "params is NULL");
  const fa4_varlen_fwd_params &p = *params;
  VarlenTensors t;
  if (fa4_status s = validateVarlen(p, t); s != FA4_SUCCESS)
    return s;
  if (t.empty)
    return FA4_SUCCESS;

  const CudaDriver *driver;
  CUcontext context;
  const char *target;
  if (fa4_status s = getDevice(driver, context, target); s != FA4_SUCCESS)
    return s;
  const char *env = std::getenv("FA4_CHECK_INPUTS");
  if (p.check_inputs || (env && *env && std::strcmp(env, "0") != 0))
    if (fa4_status s =
            checkVarlenOnDevice(*driver, p, static_cast<CUstream>(stream));
        s != FA4_SUCCESS)
      return s;
  // The SPEC's dispatch: varlen and paged K/V run on the cp.async path.
  std::vector<const KernelInfo *> found =
      findKernels(target, getVarlenRequest(p, t.mods));
  // A combination without a kernel of its own: the switchable kernel.
  const ScoreMods asked = t.mods;
  if (found.empty() && t.mods.makeSwitchable()) {
    found = findKernels(target, getVarlenRequest(p, t.mods));
    if (found.empty())
      t.mods = asked;
  }
  if (found.empty())
    return fail(FA4_ERROR_NO_KERNEL,
                format("no embedded varlen%s kernel for %s head_dim %lld %s "
                       "on %s",
                       p.block_table ? " paged" : "", getDtypeName(p.dtype),
                       static_cast<long long>(p.head_dim),
                       asked.describe().c_str(), target));
  Launch launch;
  if (fa4_status s = prepareVarlen(p, t, *found.front(), launch);
      s != FA4_SUCCESS)
    return s;
  return launchKernel(*driver, context, launch, static_cast<CUstream>(stream));
}

//===- Forward.cpp - fa4_fwd: validate, select, launch --------------------===//
//
// The forward entry point. Every argument is checked before the driver is
// touched, so bad input gets a status that names it even on a machine with
// no GPU. The kernel variant is chosen from the embedded kernels' metadata,
// and its arguments are packed by the names that metadata lists.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"
#include "KernelRegistry.h"
#include "Status.h"
#include "fa4/Runtime/fa4.h"

#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>

using namespace fa4::rt;

extern "C" void fa4_fwd_params_init(fa4_fwd_params *params) {
  if (!params)
    return;
  std::memset(params, 0, sizeof(*params));
  params->dtype = FA4_DTYPE_BF16;
  params->load_path = FA4_LOAD_PATH_AUTO;
}

extern "C" const char *fa4_version(void) { return "0.1.0"; }

extern "C" uint64_t fa4_fwd_params_size(void) {
  return sizeof(fa4_fwd_params);
}

namespace {

/// One (batch, seq, head, dim) tensor argument, strides resolved.
struct Tensor {
  const char *name;
  const void *data;
  int64_t seqlen;
  int64_t heads;
  int64_t dim;
  int64_t strides[4];
};

constexpr const char *kDimNames[4] = {"batch", "seq", "head", "dim"};

/// The kernel keeps offsets inside one (batch, head) slice in 32 bits.
constexpr int64_t kMaxSliceOffset = INT32_MAX;
/// gridDim.y and gridDim.z.
constexpr int64_t kMaxGridYZ = 65535;

} // namespace

/// Fills `t.strides` from `given`, all zeros meaning contiguous.
static void resolveStrides(Tensor &t, const int64_t given[4]) {
  bool unset = given[0] == 0 && given[1] == 0 && given[2] == 0 && given[3] == 0;
  if (unset) {
    t.strides[3] = 1;
    t.strides[2] = t.dim;
    t.strides[1] = t.heads * t.dim;
    t.strides[0] = t.seqlen * t.heads * t.dim;
    return;
  }
  std::memcpy(t.strides, given, sizeof(t.strides));
}

/// Checks one tensor: pointer, strides, alignment, 32-bit row offsets.
static fa4_status checkTensor(const Tensor &t, bool isOutput) {
  if (!t.data)
    return fail(FA4_ERROR_NULL_POINTER, format("%s is NULL", t.name));
  if (t.strides[3] != 1)
    return fail(FA4_ERROR_INVALID_STRIDE,
                format("%s: the stride of dim 3 (head_dim) must be 1, got "
                       "%lld",
                       t.name, static_cast<long long>(t.strides[3])));
  int64_t sizes[3] = {0, t.seqlen, t.heads};
  for (int i = 0; i < 3; ++i) {
    if (t.strides[i] < 0)
      return fail(FA4_ERROR_INVALID_STRIDE,
                  format("%s: the %s stride is negative (%lld)", t.name,
                         kDimNames[i], static_cast<long long>(t.strides[i])));
    if (isOutput && i > 0 && t.strides[i] == 0 && sizes[i] > 1)
      return fail(FA4_ERROR_INVALID_STRIDE,
                  format("%s: the %s stride is 0 with %lld %s entries: they "
                         "would overwrite each other",
                         t.name, kDimNames[i], static_cast<long long>(sizes[i]),
                         kDimNames[i]));
  }
  if (reinterpret_cast<uintptr_t>(t.data) % 16 != 0)
    return fail(FA4_ERROR_MISALIGNED,
                format("%s (%p) is not 16-byte aligned", t.name, t.data));
  for (int i = 0; i < 3; ++i)
    if (t.strides[i] % 8 != 0)
      return fail(FA4_ERROR_MISALIGNED,
                  format("%s: the %s stride (%lld elements) is not a multiple "
                         "of 8 elements (16 bytes)",
                         t.name, kDimNames[i],
                         static_cast<long long>(t.strides[i])));
  if (t.strides[1] > kMaxSliceOffset)
    return fail(FA4_ERROR_OVERFLOW,
                format("%s: the seq stride %lld does not fit in 32 bits",
                       t.name, static_cast<long long>(t.strides[1])));
  // The last row of a (batch, head) slice must be addressable in 32 bits.
  if (t.seqlen > 0) {
    long double last =
        static_cast<long double>(t.seqlen - 1) * t.strides[1] + t.dim;
    if (last > kMaxSliceOffset)
      return fail(FA4_ERROR_OVERFLOW,
                  format("%s: (seqlen - 1) * seq stride + head_dim = %.0Lf "
                         "elements exceeds 2^31 - 1 within one (batch, head)",
                         t.name, last));
  }
  return FA4_SUCCESS;
}

/// The embedded kernel for the request on `target` and load path `path`
/// ("cp_async" or "tma"), or nullptr.
static const KernelInfo *findKernel(const fa4_fwd_params &p,
                                    const char *target, const char *path) {
  const std::vector<KernelInfo> *kernels;
  if (getKernels(kernels) != FA4_SUCCESS)
    return nullptr;
  const char *dtype = p.dtype == FA4_DTYPE_BF16 ? "bf16" : "f16";
  // Developer hook: FA4_KERNEL names the variant to use among those that
  // match (e.g. a tile configuration loaded through FA4_KERNEL_PATH).
  const char *forced = std::getenv("FA4_KERNEL");
  if (forced && !*forced)
    forced = nullptr;
  for (const KernelInfo &k : *kernels) {
    if (k.target == target && k.dtype == dtype && k.headDim == p.head_dim &&
        k.headDimV == p.head_dim_v && k.causal == (p.causal != 0) &&
        k.loadPath == path && k.lse && k.gqa && !k.varlen && !k.pagedKv &&
        !k.splitKv && !k.dropout && !k.blockSparse &&
        (!forced || k.name == forced))
      return &k;
  }
  return nullptr;
}

/// Whether the automatic dispatch prefers the TMA kernel where both load
/// paths may run, from our H100 measurements of the sm_90 build of the SM120
/// configuration (bench/RESULTS.md, runs 8, 9 and 11).
static bool preferTma(const fa4_fwd_params &p) {
  // 2026-11-25, H100, bf16, B*S = 16384: TMA against cp.async at seqlen
  // 512..16384, causal and not. d=64: cp.async faster in 8 of 12 shapes
  // (by up to 15% at 512) -> cp.async. d=96: TMA faster in 10 of 12 (up to
  // +18%) -> TMA. d=128: TMA faster in 14 of 16, GQA included (up to +12%
  // causal) -> TMA. As published for SM120: TMA gains at d=128, loses at 64.
  return p.head_dim >= 96;
}

/// Encodes the CUtensorMap of a tensor-map parameter: a 4-D view
/// (head_dim, seq, head, batch) of its tensor, boxes of one swizzle chunk of
/// columns by `boxRows` rows, zero fill past the sequence end.
static fa4_status encodeTensorMap(const CudaDriver &d, const KernelParam &param,
                                  const Tensor &t, int64_t batch,
                                  fa4_dtype dtype, CUtensorMap &map) {
  CUtensorMapSwizzle swizzle;
  switch (param.swizzle) {
  case 128:
    swizzle = CU_TENSOR_MAP_SWIZZLE_128B;
    break;
  case 64:
    swizzle = CU_TENSOR_MAP_SWIZZLE_64B;
    break;
  case 32:
    swizzle = CU_TENSOR_MAP_SWIZZLE_32B;
    break;
  default:
    return fail(FA4_ERROR_INTERNAL,
                format("tensor map '%s': unsupported swizzle %lld",
                       param.name.c_str(),
                       static_cast<long long>(param.swizzle)));
  }
  // With no keys the kernel never loads K or V, but the map must still be
  // valid: one row.
  cuuint64_t dims[4] = {static_cast<cuuint64_t>(t.dim),
                        static_cast<cuuint64_t>(std::max<int64_t>(t.seqlen, 1)),
                        static_cast<cuuint64_t>(t.heads),
                        static_cast<cuuint64_t>(batch)};
  // Byte strides of dims 1..3; a stride of a size-1 dim is free, but the
  // driver wants it a non-zero multiple of 16.
  int64_t sizes[4] = {t.dim, std::max<int64_t>(t.seqlen, 1), t.heads, batch};
  cuuint64_t strides[3];
  for (int i = 1; i < 4; ++i) {
    int64_t elements = t.strides[i == 1 ? 1 : i == 2 ? 2 : 0];
    if (elements == 0 && sizes[i] == 1)
      elements = 8;
    strides[i - 1] = static_cast<cuuint64_t>(elements) * 2;
  }
  cuuint32_t box[4] = {static_cast<cuuint32_t>(param.boxCols),
                       static_cast<cuuint32_t>(param.boxRows), 1, 1};
  cuuint32_t elementStrides[4] = {1, 1, 1, 1};
  const void *data = t.data ? t.data : reinterpret_cast<const void *>(16);
  CUresult result = d.cuTensorMapEncodeTiled(
      &map,
      dtype == FA4_DTYPE_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                              : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
      4, const_cast<void *>(data), dims, strides, box, elementStrides,
      CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
      CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (result != CUDA_SUCCESS)
    return fail(FA4_ERROR_CUDA,
                describeCudaError(d, "cuTensorMapEncodeTiled", result) +
                    " for " + t.name + " (" + param.name + ")");
  return FA4_SUCCESS;
}

/// Checks every argument; touches no GPU.
static fa4_status validate(const fa4_fwd_params &p, Tensor &q, Tensor &k,
                           Tensor &v, Tensor &o, int64_t lseStrides[3]) {
  if (p.dtype != FA4_DTYPE_BF16 && p.dtype != FA4_DTYPE_FP16)
    return fail(FA4_ERROR_INVALID_DTYPE,
                format("dtype %d is not FA4_DTYPE_BF16 or FA4_DTYPE_FP16",
                       static_cast<int>(p.dtype)));
  struct {
    const char *name;
    int64_t value;
    int64_t min;
  } sizes[] = {{"batch", p.batch, 1},         {"seqlen_q", p.seqlen_q, 0},
               {"seqlen_k", p.seqlen_k, 0},   {"nheads_q", p.nheads_q, 1},
               {"nheads_kv", p.nheads_kv, 1}, {"head_dim", p.head_dim, 1},
               {"head_dim_v", p.head_dim_v, 1}};
  for (const auto &size : sizes)
    if (size.value < size.min)
      return fail(FA4_ERROR_INVALID_SHAPE,
                  format("%s must be %s, got %lld", size.name,
                         size.min == 0 ? "non-negative" : "positive",
                         static_cast<long long>(size.value)));
  if (p.batch > kMaxGridYZ || p.nheads_q > kMaxGridYZ)
    return fail(FA4_ERROR_INVALID_SHAPE,
                format("batch (%lld) and nheads_q (%lld) must be at most %lld",
                       static_cast<long long>(p.batch),
                       static_cast<long long>(p.nheads_q),
                       static_cast<long long>(kMaxGridYZ)));
  if (p.seqlen_q > kMaxSliceOffset || p.seqlen_k > kMaxSliceOffset)
    return fail(FA4_ERROR_OVERFLOW, "seqlen_q and seqlen_k must be < 2^31");

  // Head dims: what the embedded kernels provide.
  const std::vector<KernelInfo> *kernels;
  if (fa4_status s = getKernels(kernels); s != FA4_SUCCESS)
    return s;
  std::set<int64_t> built;
  for (const KernelInfo &kernel : *kernels)
    built.insert(kernel.headDim);
  if (!built.count(p.head_dim)) {
    std::string list;
    for (int64_t d : built)
      list += (list.empty() ? "" : ", ") + std::to_string(d);
    return fail(FA4_ERROR_UNSUPPORTED_HEAD_DIM,
                format("no kernel for head_dim %lld (built: %s)",
                       static_cast<long long>(p.head_dim), list.c_str()));
  }
  if (p.head_dim_v != p.head_dim)
    return fail(FA4_ERROR_UNSUPPORTED_HEAD_DIM,
                format("head_dim_v (%lld) different from head_dim (%lld) is "
                       "not built yet",
                       static_cast<long long>(p.head_dim_v),
                       static_cast<long long>(p.head_dim)));
  if (p.nheads_q % p.nheads_kv != 0)
    return fail(FA4_ERROR_INVALID_HEAD_RATIO,
                format("nheads_q (%lld) is not a multiple of nheads_kv (%lld)",
                       static_cast<long long>(p.nheads_q),
                       static_cast<long long>(p.nheads_kv)));
  if (p.load_path != FA4_LOAD_PATH_AUTO &&
      p.load_path != FA4_LOAD_PATH_CP_ASYNC && p.load_path != FA4_LOAD_PATH_TMA)
    return fail(FA4_ERROR_INVALID_ARGUMENT,
                format("load_path %d is not a fa4_load_path",
                       static_cast<int>(p.load_path)));
  if (!std::isfinite(p.softmax_scale) || p.softmax_scale < 0)
    return fail(FA4_ERROR_INVALID_ARGUMENT,
                format("softmax_scale must be positive and finite (0 selects "
                       "1/sqrt(head_dim)), got %g",
                       static_cast<double>(p.softmax_scale)));

  q = {"q", p.q, p.seqlen_q, p.nheads_q, p.head_dim, {}};
  k = {"k", p.k, p.seqlen_k, p.nheads_kv, p.head_dim, {}};
  v = {"v", p.v, p.seqlen_k, p.nheads_kv, p.head_dim_v, {}};
  o = {"out", p.out, p.seqlen_q, p.nheads_q, p.head_dim_v, {}};
  resolveStrides(q, p.q_strides);
  resolveStrides(k, p.k_strides);
  resolveStrides(v, p.v_strides);
  resolveStrides(o, p.out_strides);
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
    if (reinterpret_cast<uintptr_t>(p.lse) % 4 != 0)
      return fail(FA4_ERROR_MISALIGNED, "lse is not 4-byte aligned");
    if (lseStrides[2] != 1)
      return fail(FA4_ERROR_INVALID_STRIDE,
                  format("lse: the stride of dim 2 (seq) must be 1, got %lld",
                         static_cast<long long>(lseStrides[2])));
    if (lseStrides[0] < 0 || lseStrides[1] < 0)
      return fail(FA4_ERROR_INVALID_STRIDE, "lse: strides must be >= 0");
    if (p.nheads_q > 1 && lseStrides[1] == 0)
      return fail(FA4_ERROR_INVALID_STRIDE,
                  "lse: the head stride is 0: heads would overwrite each "
                  "other");
  }
  return FA4_SUCCESS;
}

/// The current context, or the primary context of device 0 made current.
static fa4_status getContext(const CudaDriver &d, CUcontext &context) {
  FA4_CUDA_CHECK(d, cuCtxGetCurrent, &context);
  if (context)
    return FA4_SUCCESS;
  CUdevice device;
  FA4_CUDA_CHECK(d, cuDeviceGet, &device, 0);
  FA4_CUDA_CHECK(d, cuDevicePrimaryCtxRetain, &context, device);
  FA4_CUDA_CHECK(d, cuCtxSetCurrent, context);
  return FA4_SUCCESS;
}

extern "C" fa4_status fa4_fwd(const fa4_fwd_params *params, void *stream) {
  clearError();
  if (!params)
    return fail(FA4_ERROR_NULL_POINTER, "params is NULL");
  const fa4_fwd_params &p = *params;
  Tensor q, k, v, o;
  int64_t lseStrides[3];
  if (fa4_status s = validate(p, q, k, v, o, lseStrides); s != FA4_SUCCESS)
    return s;
  if (p.seqlen_q == 0)
    return FA4_SUCCESS;

  // ---- Device and kernel ----
  const CudaDriver *driver;
  if (fa4_status s = getCudaDriver(driver); s != FA4_SUCCESS)
    return s;
  const CudaDriver &d = *driver;
  CUcontext context;
  if (fa4_status s = getContext(d, context); s != FA4_SUCCESS)
    return s;
  CUdevice device;
  FA4_CUDA_CHECK(d, cuCtxGetDevice, &device);
  int major = 0, minor = 0;
  FA4_CUDA_CHECK(d, cuDeviceGetAttribute, &major,
                 CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
  FA4_CUDA_CHECK(d, cuDeviceGetAttribute, &minor,
                 CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
  const char *target = getTargetForComputeCapability(major, minor);
  if (!target)
    return fail(FA4_ERROR_UNSUPPORTED_GPU,
                format("compute capability %d.%d has no fa4 kernels (built "
                       "for 12.0 sm_120a, 12.1 sm_121a, 9.0 sm_90)",
                       major, minor));
  // ---- Load path: the SPEC's dispatch, then our measurements ----
  // TMA iff no page table, not varlen, no block sparsity, no dropout (all
  // true of the dense forward built so far), a TMA kernel that fits the
  // budget exists (every embedded one does) and its tensor maps encode.
  const KernelInfo *tma = findKernel(p, target, "tma");
  const KernelInfo *cpAsync = findKernel(p, target, "cp_async");
  const char *dtypeName = p.dtype == FA4_DTYPE_BF16 ? "bf16" : "f16";
  auto noKernel = [&](const char *path) {
    const char *forced = std::getenv("FA4_KERNEL");
    return fail(FA4_ERROR_NO_KERNEL,
                format("no embedded kernel for %s head_dim %lld %s (%s) on "
                       "%s%s%s",
                       dtypeName, static_cast<long long>(p.head_dim),
                       p.causal ? "causal" : "non-causal", path, target,
                       forced && *forced ? " named " : "",
                       forced && *forced ? forced : ""));
  };
  const Tensor *tensors[] = {&q, &k, &v};
  auto encodeAll = [&](const KernelInfo &kernel, KernelArgs &args) {
    for (const KernelParam &param : kernel.params) {
      if (param.type != ParamType::TensorMap)
        continue;
      const Tensor *t = nullptr;
      for (const Tensor *candidate : tensors)
        if (param.tensor == candidate->name)
          t = candidate;
      if (!t)
        return fail(FA4_ERROR_INTERNAL,
                    "tensor map '" + param.name + "' views unknown tensor '" +
                        param.tensor + "'");
      CUtensorMap map;
      if (fa4_status s = encodeTensorMap(d, param, *t, p.batch, p.dtype, map);
          s != FA4_SUCCESS)
        return s;
      args.setTensorMap(param.name, map);
    }
    return FA4_SUCCESS;
  };
  KernelArgs args;
  const KernelInfo *kernel = nullptr;
  switch (p.load_path) {
  case FA4_LOAD_PATH_TMA:
    if (!tma)
      return noKernel("tma");
    if (fa4_status s = encodeAll(*tma, args); s != FA4_SUCCESS)
      return s;
    kernel = tma;
    break;
  case FA4_LOAD_PATH_CP_ASYNC:
    if (!cpAsync)
      return noKernel("cp_async");
    kernel = cpAsync;
    break;
  case FA4_LOAD_PATH_AUTO:
    // A tensor map that does not encode (e.g. a zero stride) falls back.
    if (tma && preferTma(p) && encodeAll(*tma, args) == FA4_SUCCESS)
      kernel = tma;
    else if (cpAsync)
      kernel = cpAsync;
    else if (tma) {
      if (fa4_status s = encodeAll(*tma, args); s != FA4_SUCCESS)
        return s;
      kernel = tma;
    } else
      return noKernel("any load path");
    clearError();
    break;
  }
  CUfunction function;
  if (fa4_status s = getFunction(d, context, *kernel, function);
      s != FA4_SUCCESS)
    return s;

  // ---- Arguments, by the names the kernel's metadata lists ----
  float scale = p.softmax_scale > 0
                    ? p.softmax_scale
                    : static_cast<float>(1.0 / std::sqrt(double(p.head_dim)));
  args.setPtr("q", q.data);
  args.setPtr("k", k.data);
  args.setPtr("v", v.data);
  args.setPtr("o", o.data);
  args.setPtr("lse", p.lse);
  args.setI32("seqlen_q", static_cast<int32_t>(p.seqlen_q));
  args.setI32("seqlen_k", static_cast<int32_t>(p.seqlen_k));
  args.setI32("head_ratio", static_cast<int32_t>(p.nheads_q / p.nheads_kv));
  for (const Tensor *t : {&q, &k, &v, &o}) {
    std::string prefix = t == &o ? "o" : t->name;
    args.setI64(prefix + "_batch_stride", t->strides[0]);
    args.setI64(prefix + "_head_stride", t->strides[2]);
    args.setI32(prefix + "_row_stride", static_cast<int32_t>(t->strides[1]));
  }
  args.setI64("lse_batch_stride", lseStrides[0]);
  args.setI64("lse_head_stride", lseStrides[1]);
  args.setF32("softmax_scale", scale);
  std::vector<KernelArgs::Slot> storage;
  std::vector<void *> pointers;
  if (fa4_status s = args.pack(*kernel, storage, pointers); s != FA4_SUCCESS)
    return s;

  // ---- Launch: one CTA per (m-block, query head, batch) ----
  int64_t mBlocks = (p.seqlen_q + kernel->tileM - 1) / kernel->tileM;
  FA4_CUDA_CHECK(d, cuLaunchKernel, function, static_cast<unsigned>(mBlocks),
                 static_cast<unsigned>(p.nheads_q),
                 static_cast<unsigned>(p.batch),
                 static_cast<unsigned>(kernel->threads), 1, 1,
                 static_cast<unsigned>(kernel->smemBytes),
                 static_cast<CUstream>(stream), pointers.data(), nullptr);
  return FA4_SUCCESS;
}

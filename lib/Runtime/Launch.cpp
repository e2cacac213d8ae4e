//===- Launch.cpp - preparing and launching one kernel --------------------===//
//
// Tensor checks, the grid rule, tensor-map encoding, the parameter check and
// the launch shared by every entry point.
//
//===----------------------------------------------------------------------===//

#include "Launch.h"
#include "Status.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>

using namespace fa4::rt;

namespace {
constexpr const char *kDimNames[4] = {"batch", "seq", "head", "dim"};
} // namespace

void fa4::rt::resolveStrides(Tensor &t, const int64_t given[4]) {
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

fa4_status fa4::rt::checkLayout(const char *tensor, int rank,
                                const int64_t sizes[], const int64_t strides[],
                                const char *const names[], int64_t elementBytes,
                                bool isOutput) {
  for (int i = 0; i < rank; ++i)
    if (sizes[i] == 0)
      return FA4_SUCCESS; // no elements
  long double last = 0;
  for (int i = 0; i < rank; ++i)
    last += static_cast<long double>(sizes[i] - 1) * strides[i];
  if (last * elementBytes > static_cast<long double>(INT64_MAX))
    return fail(FA4_ERROR_OVERFLOW,
                format("%s: the largest element offset (%.0Lf) does not fit a "
                       "64-bit byte offset",
                       tensor, last));
  if (!isOutput)
    return FA4_SUCCESS;
  // Dims of more than one entry, smallest stride first: each must step past
  // the extent `span` of the dims before it, or two elements alias.
  int order[8];
  int count = 0;
  for (int i = 0; i < rank; ++i)
    if (sizes[i] > 1)
      order[count++] = i;
  std::sort(order, order + count,
            [&](int a, int b) { return strides[a] < strides[b]; });
  long double span = 1;
  for (int j = 0; j < count; ++j) {
    int i = order[j];
    if (strides[i] == 0)
      return fail(FA4_ERROR_INVALID_STRIDE,
                  format("%s: the %s stride is 0 with %lld %s entries: they "
                         "would overwrite each other",
                         tensor, names[i], static_cast<long long>(sizes[i]),
                         names[i]));
    if (strides[i] < span)
      return fail(FA4_ERROR_INVALID_STRIDE,
                  format("%s: the %s stride (%lld) is below the %.0Lf "
                         "elements the smaller dims span: elements would "
                         "alias",
                         tensor, names[i], static_cast<long long>(strides[i]),
                         span));
    span += static_cast<long double>(sizes[i] - 1) * strides[i];
  }
  return FA4_SUCCESS;
}

fa4_status fa4::rt::checkTensor(const Tensor &t, bool isOutput) {
  if (!t.data)
    return fail(FA4_ERROR_NULL_POINTER, format("%s is NULL", t.name));
  if (t.strides[3] != 1)
    return fail(FA4_ERROR_INVALID_STRIDE,
                format("%s: the stride of dim 3 (head_dim) must be 1, got "
                       "%lld",
                       t.name, static_cast<long long>(t.strides[3])));
  for (int i = 0; i < 3; ++i)
    if (t.strides[i] < 0)
      return fail(FA4_ERROR_INVALID_STRIDE,
                  format("%s: the %s stride is negative (%lld)", t.name,
                         kDimNames[i], static_cast<long long>(t.strides[i])));
  int64_t sizes[4] = {t.batch, t.seqlen, t.heads, t.dim};
  if (fa4_status s = checkLayout(t.name, 4, sizes, t.strides, kDimNames,
                                 /*elementBytes=*/2, isOutput);
      s != FA4_SUCCESS)
    return s;
  if (fa4_status s = checkAligned(t.data, 16, t.name); s != FA4_SUCCESS)
    return s;
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

fa4_status fa4::rt::resolveSoftmaxScale(float given, int64_t headDim,
                                        float &scale) {
  if (!std::isfinite(given) || given < 0)
    return fail(FA4_ERROR_INVALID_ARGUMENT,
                format("softmax_scale must be positive and finite (0 selects "
                       "1/sqrt(head_dim)), got %g",
                       static_cast<double>(given)));
  scale =
      given > 0 ? given : static_cast<float>(1.0 / std::sqrt(double(headDim)));
  float scaled = scale * 1.44269504f;
  if (!std::isnormal(scaled))
    return fail(FA4_ERROR_INVALID_ARGUMENT,
                format("softmax_scale (%g) times log2(e) is %g in float32, "
                       "not a finite normal number",
                       static_cast<double>(scale),
                       static_cast<double>(scaled)));
  return FA4_SUCCESS;
}

const char *fa4::rt::getDtypeName(fa4_dtype dtype) {
  return dtype == FA4_DTYPE_BF16 ? "bf16" : "f16";
}

fa4_status fa4::rt::checkHeadDims(int64_t headDim, int64_t headDimV) {
  const HeadDims *headDims;
  if (fa4_status s = getHeadDims(headDims); s != FA4_SUCCESS)
    return s;
  const std::set<int64_t> &built = headDims->dims;
  const std::set<std::pair<int64_t, int64_t>> &pairs = headDims->pairs;
  if (!built.count(headDim)) {
    std::string list;
    for (int64_t h : built)
      list += (list.empty() ? "" : ", ") + std::to_string(h);
    return fail(FA4_ERROR_UNSUPPORTED_HEAD_DIM,
                format("no kernel for head_dim %lld (built: %s; pad q and k "
                       "with zero columns to the next one)",
                       static_cast<long long>(headDim), list.c_str()));
  }
  if (!pairs.count({headDim, headDimV})) {
    std::string list;
    for (auto [d, dv] : pairs)
      if (d == headDim)
        list += (list.empty() ? "" : ", ") + std::to_string(dv);
    return fail(FA4_ERROR_UNSUPPORTED_HEAD_DIM,
                format("no kernel for head_dim %lld with head_dim_v %lld "
                       "(built with head_dim %lld: head_dim_v %s)",
                       static_cast<long long>(headDim),
                       static_cast<long long>(headDimV),
                       static_cast<long long>(headDim), list.c_str()));
  }
  return FA4_SUCCESS;
}

// With l = ceil(log2 d) and N = 31 (x < 2^N), m = ceil(2^(N + l) / d) gives
// floor(x / d) = floor(x m / 2^(N + l)) (Granlund and Montgomery, 1994,
// theorem 4.2, since 0 <= m d - 2^(N + l) < d <= 2^l). umulhi drops 32 of
// the N + l bits, the shift the remaining l - 1. m fits 32 bits: m = 2^31
// when d is a power of two, else d > 2^(l - 1) and m <= 2^(N + 1) - 1.
DivisionReciprocal fa4::rt::getDivisionReciprocal(int64_t divisor) {
  int l = 0;
  while ((int64_t(1) << l) < divisor)
    ++l;
  uint64_t wide = uint64_t(1) << (31 + l);
  uint64_t magic = (wide + static_cast<uint64_t>(divisor) - 1) /
                   static_cast<uint64_t>(divisor);
  return {static_cast<uint32_t>(magic), l - 1};
}

fa4_status fa4::rt::getGrid(const Launch &launch, unsigned grid[3]) {
  const KernelInfo &kernel = *launch.kernel;
  static const int64_t limits[3] = {INT32_MAX, kMaxGridYZ, kMaxGridYZ};
  for (int i = 0; i < 3; ++i) {
    int64_t value;
    std::string error;
    if (!evaluate(kernel.grid[i], launch.sizes, value, error))
      return fail(FA4_ERROR_INTERNAL, "kernel " + kernel.name + ": grid " +
                                          std::string(1, char('x' + i)) +
                                          " rule " + error);
    if (value < 0 || value > limits[i])
      return fail(FA4_ERROR_INVALID_SHAPE,
                  format("kernel %s needs %lld CTAs along grid %c; at most "
                         "%lld are possible",
                         kernel.name.c_str(), static_cast<long long>(value),
                         'x' + i, static_cast<long long>(limits[i])));
    grid[i] = static_cast<unsigned>(value);
  }
  return FA4_SUCCESS;
}

/// Encodes the CUtensorMap of a tensor-map parameter: a 4-D view
/// (head_dim, seq, head, batch) of its tensor, boxes of one swizzle chunk of
/// columns by `boxRows` rows.
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
  int64_t sizes[4] = {t.dim, std::max<int64_t>(t.seqlen, 1), t.heads, batch};
  cuuint64_t dims[4];
  for (int i = 0; i < 4; ++i)
    dims[i] = static_cast<cuuint64_t>(sizes[i]);
  // Byte strides of dims 1..3 (seq, head, batch). The driver wants each a
  // non-zero multiple of 16 bytes even for a dimension of size 1, where it
  // is never applied: 8 elements stand in for a zero stride there.
  cuuint64_t strides[3];
  for (int i = 1; i < 4; ++i) {
    int64_t elements = t.strides[i == 1 ? 1 : i == 2 ? 2 : 0];
    if (elements == 0 && sizes[i] == 1)
      elements = 8;
    strides[i - 1] = static_cast<cuuint64_t>(elements) * 2;
  }
  cuuint32_t box[4] = {static_cast<cuuint32_t>(param.boxCols),
                       static_cast<cuuint32_t>(param.boxRows), 1, 1};
  // Every element of a box is loaded (no sub-sampling).
  cuuint32_t elementStrides[4] = {1, 1, 1, 1};
  // The driver rejects a null base; with no keys the kernel issues no load,
  // so any 16-byte-aligned address will do.
  const void *data = t.data ? t.data : reinterpret_cast<const void *>(16);
  // Plain row-major data (no interleave); L2 promotion to 256 B, the
  // length of a K/V row at d = 128, which a tile reads as two 128 B boxes;
  // out-of-bounds rows filled with zeros (FLOAT_OOB_FILL_NONE; the NaN
  // fill would poison P V), as cp.async's zero source size does.
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

fa4_status fa4::rt::encodeTensorMaps(const CudaDriver &driver, Launch &launch) {
  for (const KernelParam &param : launch.kernel->params) {
    if (param.type != ParamType::TensorMap)
      continue;
    auto view = launch.views.find(param.tensor);
    if (view == launch.views.end())
      return fail(FA4_ERROR_INTERNAL, "tensor map '" + param.name +
                                          "' views unknown tensor '" +
                                          param.tensor + "'");
    CUtensorMap map;
    if (fa4_status s = encodeTensorMap(driver, param, view->second,
                                       launch.viewBatch, launch.dtype, map);
        s != FA4_SUCCESS)
      return s;
    launch.args.setTensorMap(param.name, map);
  }
  return FA4_SUCCESS;
}

fa4_status fa4::rt::checkArguments(const Launch &launch) {
  const KernelInfo &kernel = *launch.kernel;
  KernelArgs args = launch.args;
  for (const KernelParam &param : kernel.params) {
    if (param.type != ParamType::TensorMap)
      continue;
    if (!launch.views.count(param.tensor))
      return fail(FA4_ERROR_INTERNAL, "kernel " + kernel.name +
                                          " wants tensor map '" + param.name +
                                          "' of tensor '" + param.tensor +
                                          "', which the runtime does not have");
    args.setTensorMap(param.name, CUtensorMap{});
  }
  if (fa4_status s = checkWorkspace(launch); s != FA4_SUCCESS)
    return s;
  std::vector<KernelArgs::Slot> storage;
  std::vector<void *> pointers;
  return args.pack(kernel, storage, pointers);
}

fa4_status fa4::rt::getDevice(const CudaDriver *&driver, CUcontext &context,
                              const char *&target) {
  if (fa4_status s = getCudaDriver(driver); s != FA4_SUCCESS)
    return s;
  const CudaDriver &d = *driver;
  FA4_CUDA_CHECK(d, cuCtxGetCurrent, &context);
  if (!context) {
    CUdevice device;
    FA4_CUDA_CHECK(d, cuDeviceGet, &device, 0);
    FA4_CUDA_CHECK(d, cuDevicePrimaryCtxRetain, &context, device);
    FA4_CUDA_CHECK(d, cuCtxSetCurrent, context);
  }
  CUdevice device;
  FA4_CUDA_CHECK(d, cuCtxGetDevice, &device);
  int major = 0, minor = 0;
  FA4_CUDA_CHECK(d, cuDeviceGetAttribute, &major,
                 CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
  FA4_CUDA_CHECK(d, cuDeviceGetAttribute, &minor,
                 CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
  target = getTargetForComputeCapability(major, minor);
  if (!target)
    return fail(FA4_ERROR_UNSUPPORTED_GPU,
                format("compute capability %d.%d has no fa4 kernels (built "
                       "for 12.0 sm_120a, 12.1 sm_121a, 9.0 sm_90)",
                       major, minor));
  return FA4_SUCCESS;
}

fa4_status fa4::rt::checkWorkspace(const Launch &launch) {
  const KernelInfo &kernel = *launch.kernel;
  int64_t bytes;
  std::string error;
  if (!evaluate(kernel.workspace, launch.sizes, bytes, error))
    return fail(FA4_ERROR_INTERNAL,
                "kernel " + kernel.name + ": workspace rule " + error);
  // The caller owns scratch memory (fa4_kvcache_workspace_size): a kernel
  // never runs with less than its rule asks for.
  if (bytes < 0 || static_cast<uint64_t>(bytes) > launch.workspaceBytes)
    return fail(
        bytes > 0 && launch.workspaceBytes == 0 && !launch.workspaceProvided
            ? FA4_ERROR_INTERNAL
            : FA4_ERROR_INVALID_ARGUMENT,
        format(
            "kernel %s needs %lld bytes of workspace, %s", kernel.name.c_str(),
            static_cast<long long>(bytes),
            launch.workspaceProvided
                ? format("the workspace holds %llu",
                         static_cast<unsigned long long>(launch.workspaceBytes))
                      .c_str()
                : "which this entry point does not provide"));
  return FA4_SUCCESS;
}

fa4_status fa4::rt::launchKernel(const CudaDriver &d, CUcontext context,
                                 const Launch &launch, CUstream stream) {
  const KernelInfo &kernel = *launch.kernel;
  if (fa4_status s = checkWorkspace(launch); s != FA4_SUCCESS)
    return s;
  unsigned grid[3];
  if (fa4_status s = getGrid(launch, grid); s != FA4_SUCCESS)
    return s;
  if (grid[0] == 0 || grid[1] == 0 || grid[2] == 0)
    return FA4_SUCCESS; // nothing to compute
  CUfunction function;
  if (fa4_status s = getFunction(d, context, kernel, function);
      s != FA4_SUCCESS)
    return s;
  std::vector<KernelArgs::Slot> storage;
  std::vector<void *> pointers;
  if (fa4_status s = launch.args.pack(kernel, storage, pointers);
      s != FA4_SUCCESS)
    return s;
  if (!isProgrammaticLaunch(kernel)) {
    FA4_CUDA_CHECK(d, cuLaunchKernel, function, grid[0], grid[1], grid[2],
                   static_cast<unsigned>(kernel.threads), 1, 1,
                   static_cast<unsigned>(kernel.smemBytes), stream,
                   pointers.data(), nullptr);
    return FA4_SUCCESS;
  }
  // Programmatic dependent launch: the kernel may start while the grid
  // before it in the stream runs (from when all of that grid's CTAs have
  // executed griddepcontrol.launch_dependents); its griddepcontrol.wait
  // holds it until that grid's writes are visible. Stream capture records
  // the dependency as a programmatic edge.
  CUlaunchAttribute attribute = {};
  attribute.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
  attribute.value.programmaticStreamSerializationAllowed = 1;
  CUlaunchConfig config = {};
  config.gridDimX = grid[0];
  config.gridDimY = grid[1];
  config.gridDimZ = grid[2];
  config.blockDimX = static_cast<unsigned>(kernel.threads);
  config.blockDimY = 1;
  config.blockDimZ = 1;
  config.sharedMemBytes = static_cast<unsigned>(kernel.smemBytes);
  config.hStream = stream;
  config.attrs = &attribute;
  config.numAttrs = 1;
  FA4_CUDA_CHECK(d, cuLaunchKernelEx, &config, function, pointers.data(),
                 nullptr);
  return FA4_SUCCESS;
}

bool fa4::rt::isProgrammaticLaunch(const KernelInfo &kernel) {
  // FA4_NO_PDL=1 launches every kernel fully serialized (for comparison
  // and debugging); read once.
  static const bool disabled = [] {
    const char *env = std::getenv("FA4_NO_PDL");
    return env && *env && std::strcmp(env, "0") != 0;
  }();
  if (disabled)
    return false;
  auto it = kernel.config.find("programmatic_wait");
  return it != kernel.config.end() && it->second != 0;
}

//===- Launch.h - preparing and launching one kernel ------------*- C++ -*-===//
//
// What every entry point shares once it has validated its arguments: the
// tensors it passes (checked once, one rule set), the request's features
// and sizes, the kernel those select, the arguments packed by the names its
// metadata lists, the grid its rule gives, and the launch itself. Preparing
// touches no driver, so a test can prepare every embedded kernel without a
// GPU and prove the runtime supplies each parameter it declares.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_RUNTIME_LAUNCH_H
#define FA4_LIB_RUNTIME_LAUNCH_H

#include "CudaDriver.h"
#include "Expr.h"
#include "KernelRegistry.h"

#include <climits>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>

namespace fa4::rt {

/// The integer a C caller stored in an enum field of a parameter struct.
/// Reading the field as the enum type is undefined in C++ for a value
/// outside the enumerators (UBSan's -fsanitize=enum reports it), so
/// validation reads the bits.
template <typename Enum> int getRawEnum(const Enum &field) {
  static_assert(sizeof(Enum) == sizeof(int), "a C enum field");
  int raw;
  std::memcpy(&raw, &field, sizeof(raw));
  return raw;
}

/// The kernel keeps offsets inside one (batch, head) slice, or one
/// sequence, in 32 bits.
constexpr int64_t kMaxSliceOffset = INT32_MAX;
/// gridDim.y and gridDim.z.
constexpr int64_t kMaxGridYZ = 65535;

/// One (batch?, seq, head, dim) tensor argument with its strides resolved,
/// in elements, in the order (batch, seq, head, dim); varlen and paged
/// tensors have no batch dimension (stride 0) and `seqlen` rows (the total
/// tokens, or the rows of one page).
struct Tensor {
  const char *name = "";
  const void *data = nullptr;
  int64_t seqlen = 0;
  int64_t heads = 0;
  int64_t dim = 0;
  int64_t strides[4] = {0, 0, 0, 0};
  /// Entries of dim 0: the batch, the pages of a paged cache, 1 otherwise.
  int64_t batch = 1;
};

/// Fills `t.strides` from `given` (batch, seq, head, dim); all zeros means
/// contiguous.
void resolveStrides(Tensor &t, const int64_t given[4]);
/// Checks one 16-bit tensor: pointer, strides, alignment, 32-bit row
/// offsets, and checkLayout.
fa4_status checkTensor(const Tensor &t, bool isOutput);

/// Checks a strided layout of `rank` dims (`names` for the messages): its
/// largest element offset times `elementBytes` must fit a signed 64-bit
/// byte offset (the kernel's batch, head and page offsets are 64-bit), and
/// an output's elements must not alias: ordered by stride, every dim of
/// more than one entry must step past everything the smaller dims span.
fa4_status checkLayout(const char *tensor, int rank, const int64_t sizes[],
                       const int64_t strides[], const char *const names[],
                       int64_t elementBytes, bool isOutput);

/// The scale the kernel uses: `given`, or 1/sqrt(headDim) for 0. The kernel
/// works with scale * log2(e) in float32, which must be a finite, normal
/// number (a negative scale would invert the running maximum).
fa4_status resolveSoftmaxScale(float given, int64_t headDim, float &scale);
/// The element size of `dtype` and its feature name ("bf16", "f16").
const char *getDtypeName(fa4_dtype dtype);

/// Head dims the embedded kernels provide for `features` other than the
/// head dims; a request for another one fails naming those that exist.
fa4_status checkHeadDims(int64_t headDim, int64_t headDimV);

/// One launch, prepared.
struct Launch {
  const KernelInfo *kernel = nullptr;
  KernelArgs args;
  /// The sizes the kernel's grid and workspace rules may name.
  SizeMap sizes;
  /// The tensors the kernel's tensor-map parameters may view, by name, and
  /// the batch size of their 4-D view.
  std::map<std::string, Tensor, std::less<>> views;
  int64_t viewBatch = 1;
  fa4_dtype dtype = FA4_DTYPE_BF16;
  /// The caller's workspace (fa4_kvcache_fwd), checked against the
  /// kernel's workspace rule.
  bool workspaceProvided = false;
  uint64_t workspaceBytes = 0;
};

/// x / divisor = umulhi(x, magic) >> shift, exact for every 0 <= x < 2^31:
/// how a kernel divides by a run-time constant (the page size) without a
/// division in its loop.
struct DivisionReciprocal {
  uint32_t magic = 0;
  int32_t shift = 0;
};
/// The reciprocal of `divisor`, 2 <= divisor < 2^31.
DivisionReciprocal getDivisionReciprocal(int64_t divisor);

/// Evaluates the kernel's grid rule over the launch's sizes.
fa4_status getGrid(const Launch &launch, unsigned grid[3]);

/// Encodes every tensor-map parameter of the launch's kernel (needs the
/// driver); fails with the driver's message when one does not encode.
fa4_status encodeTensorMaps(const CudaDriver &driver, Launch &launch);

/// Checks that the launch supplies every parameter its kernel declares,
/// with the declared type (tensor maps: that the tensor it views exists),
/// and the workspace it asks for.
fa4_status checkArguments(const Launch &launch);

/// Evaluates the kernel's workspace rule; a kernel that needs workspace is
/// an error until an entry point provides it.
fa4_status checkWorkspace(const Launch &launch);

/// The driver, the current context (device 0's primary context if none is
/// current) and the fa4 target of its device.
fa4_status getDevice(const CudaDriver *&driver, CUcontext &context,
                     const char *&target);

/// Whether `kernel` is launched with programmatic stream serialization: its
/// metadata says it waits for the grid before it (config
/// programmatic_wait), and FA4_NO_PDL is not set.
bool isProgrammaticLaunch(const KernelInfo &kernel);

/// Loads the kernel, packs its arguments and launches it on `stream`.
fa4_status launchKernel(const CudaDriver &driver, CUcontext context,
                        const Launch &launch, CUstream stream);

} // namespace fa4::rt

#endif // FA4_LIB_RUNTIME_LAUNCH_H

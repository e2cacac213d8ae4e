//===- KernelRegistry.h - the kernels embedded in the runtime ---*- C++ -*-===//
//
// Every kernel fa4-opt generated at build time is embedded as PTX next to the
// metadata the compiler wrote for it. The registry parses that metadata once,
// selects kernels by their features, loads their modules once per context,
// and packs launch arguments in the order the metadata lists them.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_RUNTIME_KERNELREGISTRY_H
#define FA4_LIB_RUNTIME_KERNELREGISTRY_H

#include "CudaDriver.h"
#include "fa4/Runtime/fa4.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace fa4::rt {

/// One kernel as the build embedded it (generated table).
struct EmbeddedKernel {
  const char *target;
  const char *name;
  const char *ptxBegin; // NUL-terminated
  const char *ptxEnd;
  const char *jsonBegin;
  const char *jsonEnd;
};
extern "C" const EmbeddedKernel fa4_embedded_kernels[];
extern "C" const size_t fa4_num_embedded_kernels;

/// Types a kernel parameter can have (the metadata's "type").
enum class ParamType { Ptr, I32, I64, F32, TensorMap };

/// The PTX `.param` spelling the backend uses for each type.
const char *getPtxParamType(ParamType type);

struct KernelParam {
  std::string name;
  ParamType type;
  // TensorMap only: the tensor it views ("q", "k", "v") and its box.
  std::string tensor;
  int64_t boxRows = 0, boxCols = 0, swizzle = 0;
};

/// A kernel's metadata plus its PTX.
struct KernelInfo {
  std::string name;
  std::string target;
  int64_t threads = 0;
  int64_t smemBytes = 0;
  std::vector<KernelParam> params;
  // Features.
  std::string dtype;
  std::string loadPath;
  int64_t headDim = 0, headDimV = 0;
  int64_t tileM = 0, tileN = 0, numWarps = 0, numStages = 0;
  bool causal = false, gqa = false, lse = false, varlen = false,
       pagedKv = false, splitKv = false, dropout = false, blockSparse = false;
  const char *ptx = nullptr;
  size_t ptxSize = 0;
};

/// Parses one kernel's metadata JSON.
fa4_status parseKernelMetadata(std::string_view json, KernelInfo &info);

/// All embedded kernels, parsed once. A malformed entry is an
/// FA4_ERROR_INTERNAL status with a message naming the kernel.
fa4_status getKernels(const std::vector<KernelInfo> *&kernels);

/// The fa4 target for a compute capability: 12.0 -> sm_120a,
/// 12.1 -> sm_121a, 9.0 -> sm_90; nullptr for anything else.
const char *getTargetForComputeCapability(int major, int minor);

/// Kernel arguments by name, packed in the order a kernel's metadata lists
/// its parameters. The packing never relies on a list kept by hand: a name
/// the kernel wants and the caller did not set, or a type that differs, is
/// an FA4_ERROR_INTERNAL status.
class KernelArgs {
public:
  /// One packed parameter: 128 bytes, 64-byte aligned (a CUtensorMap);
  /// scalars and pointers use the first bytes.
  struct alignas(64) Slot {
    unsigned char bytes[128];
  };

  void setPtr(std::string name, const void *value);
  void setI32(std::string name, int32_t value);
  void setI64(std::string name, int64_t value);
  void setF32(std::string name, float value);
  void setTensorMap(std::string name, const CUtensorMap &value);

  /// Fills `storage` (one slot per parameter) and `pointers` (the
  /// cuLaunchKernel kernelParams array) for `kernel`.
  fa4_status pack(const KernelInfo &kernel, std::vector<Slot> &storage,
                  std::vector<void *> &pointers) const;

private:
  struct Arg {
    std::string name;
    ParamType type;
    Slot value;
  };
  void set(std::string name, ParamType type, const void *bytes, size_t size);
  std::vector<Arg> args;
};

/// The loaded function of `kernel` in the current context, loading the
/// module (PTX JIT) and raising the dynamic shared-memory limit on first
/// use.
fa4_status getFunction(const CudaDriver &driver, CUcontext context,
                       const KernelInfo &kernel, CUfunction &function);

} // namespace fa4::rt

#endif // FA4_LIB_RUNTIME_KERNELREGISTRY_H

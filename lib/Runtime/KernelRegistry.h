//===- KernelRegistry.h - the kernels embedded in the runtime ---*- C++ -*-===//
//
// Every module fa4-opt generated at build time is embedded as zlib-compressed
// PTX next to the metadata the compiler wrote for it. The registry parses that
// metadata once, selects kernels by their features, loads their modules once
// per context, and packs launch arguments in the order the metadata lists
// them. Nothing here knows a kernel's parameters or features by heart: it
// reads them.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_RUNTIME_KERNELREGISTRY_H
#define FA4_LIB_RUNTIME_KERNELREGISTRY_H

#include "CudaDriver.h"
#include "fa4/Runtime/fa4.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fa4::rt {

/// One module as the build embedded it (generated table).
struct EmbeddedModule {
  const char *target;
  const char *name;
  const unsigned char *ptxBegin; // zlib stream of the PTX
  const unsigned char *ptxEnd;
  size_t ptxSize; // uncompressed, without the terminating NUL
  const char *jsonBegin;
  const char *jsonEnd;
};
extern "C" const EmbeddedModule fa4_embedded_modules[];
extern "C" const size_t fa4_num_embedded_modules;

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

/// A module's PTX: embedded compressed (inflated on first use) or, from
/// FA4_KERNEL_PATH, read as text.
struct ModuleInfo {
  std::string name;
  std::string target;
  const unsigned char *compressed = nullptr;
  size_t compressedSize = 0;
  size_t ptxSize = 0;
  std::string ptx; // filled by getModulePtx
};

/// Feature values as the metadata states them, as text ("true", "bf16",
/// "128").
using FeatureMap = std::map<std::string, std::string, std::less<>>;

/// One kernel's metadata.
struct KernelInfo {
  std::string name;
  const ModuleInfo *module = nullptr;
  int64_t threads = 0;
  int64_t smemBytes = 0;
  std::vector<KernelParam> params;
  /// What it computes: a request selects the kernel whose features equal
  /// the request's, key for key.
  FeatureMap features;
  /// How it computes it: tile sizes, warps, stages (informational).
  std::map<std::string, int64_t, std::less<>> config;
  /// Launch rules: grid x, y, z and the workspace size, as expressions
  /// over the request's sizes (Expr.h). A kernel without them is listed
  /// but never selected.
  std::vector<std::string> grid;
  std::string workspace;

  bool isLaunchable() const { return grid.size() == 3 && !workspace.empty(); }
  const std::string &target() const { return module->target; }
  /// A feature's value, or "" when the kernel does not state it.
  std::string_view feature(std::string_view key) const;
};

/// Parses one module's metadata JSON into its kernels.
fa4_status parseModuleMetadata(std::string_view json, const ModuleInfo &module,
                               std::vector<KernelInfo> &kernels);

/// Loads the modules of `path` (colon-separated folders laid out as the
/// build's <target>/<module>.{ptx,json}) into `modules` and `kernels`. A
/// module that cannot be read or whose metadata is malformed is skipped and
/// described in `problems` (one line naming its file); the others load.
void loadModulesFromPath(const char *path, std::deque<ModuleInfo> &modules,
                         std::vector<KernelInfo> &kernels,
                         std::vector<std::string> &problems);

/// All embedded kernels (and FA4_KERNEL_PATH's), parsed once. A malformed
/// embedded entry is an FA4_ERROR_INTERNAL status with a message naming the
/// module; a malformed FA4_KERNEL_PATH module is reported once on stderr and
/// skipped.
fa4_status getKernels(const std::vector<KernelInfo> *&kernels);

/// The head dims the attention kernels are built for, and the
/// (head_dim, head_dim_v) pairs.
struct HeadDims {
  std::set<int64_t> dims;
  std::set<std::pair<int64_t, int64_t>> pairs;
};
fa4_status getHeadDims(const HeadDims *&headDims);

/// `module`'s PTX text, NUL-terminated, inflating it on first use.
fa4_status getModulePtx(const ModuleInfo &module, const char *&ptx);

/// The fa4 target for a compute capability: 12.0 -> sm_120a,
/// 12.1 -> sm_121a, 9.0 -> sm_90; nullptr for anything else.
const char *getTargetForComputeCapability(int major, int minor);

/// The launchable kernels of `target` whose features equal `request`; with
/// FA4_KERNEL set (a developer hook), only the one of that name.
std::vector<const KernelInfo *> findKernels(std::string_view target,
                                            const FeatureMap &request);

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
  bool has(std::string_view name) const;

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

/// The loaded function of `kernel` in the current context, loading its
/// module (PTX JIT) once and raising the dynamic shared-memory limit on
/// first use.
fa4_status getFunction(const CudaDriver &driver, CUcontext context,
                       const KernelInfo &kernel, CUfunction &function);

} // namespace fa4::rt

#endif // FA4_LIB_RUNTIME_KERNELREGISTRY_H

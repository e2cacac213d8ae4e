//===- KernelABI.h - kernel parameters, features and launch rules -*- C++ -*-===//
//
// The one schema of what an attention kernel takes and what it is: every
// parameter with the predicate that says which variants take it, the
// features the runtime selects kernels by, the tile configuration, and the
// grid and workspace rules the runtime launches by. fa4-tile-attention
// builds a kernel's signature and its fa4.abi / fa4.features / fa4.config /
// fa4.grid / fa4.workspace attributes from it; fa4-emit-ptx copies those
// into the metadata; the runtime reads only the metadata.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_DIALECT_FA4_TRANSFORMS_KERNELABI_H
#define FA4_DIALECT_FA4_TRANSFORMS_KERNELABI_H

#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/IR/FA4Target.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/ADT/StringMap.h"

namespace mlir {
namespace fa4 {

/// One kernel variant: the definition, its tile configuration and target.
struct KernelVariant {
  /// Op handles are values: their accessors are not const.
  mutable AttentionOp def;
  KernelConfig config;
  const TargetInfo *target;

  bool isTma() const { return config.warpSpecialized; }
  bool isVarlen() const { return def.getVarlen(); }
  bool isPaged() const { return def.getPagedKv(); }
  bool isCausal() const { return def.getCausal(); }
  bool isWindow() const { return def.getWindow(); }
  bool isSoftcap() const { return def.getSoftcap(); }
  bool isAlibi() const { return def.getAlibi(); }
  bool isSink() const { return def.getSink(); }
  bool isSwitchable() const { return def.getSwitchable(); }
  bool isKVCache() const { return def.getKvCache(); }
  bool isSplitKV() const { return def.getSplitKv(); }
  bool isDropout() const { return def.getDropout(); }
  bool isReturnProbs() const { return def.getReturnProbs(); }
  bool isBlockSparse() const { return def.getBlockSparse(); }
  /// The name of the variant path the kernel's scope holds.
  StringRef getLayoutName() const {
    if (isKVCache())
      return isPaged() ? "paged_cache" : "cache";
    return isPaged() ? "paged" : isVarlen() ? "varlen" : "dense";
  }
};

/// The kind of one kernel parameter.
enum class ParamKind { GlobalPtr, I32, I64, F32, TensorMap };

/// One kernel parameter: its name is the contract with the runtime, which
/// packs arguments by these names in this order (read back from the
/// emitted metadata, never from a list kept by hand). `takes` says which
/// variants have it.
struct ParamSpec {
  const char *name;
  ParamKind kind;
  bool (*takes)(const KernelVariant &);
};

/// The parameters of `variant`, in order.
SmallVector<ParamSpec> getKernelParams(const KernelVariant &variant);
/// The parameters of a split-KV variant's combine kernel, in order.
SmallVector<ParamSpec> getCombineParams(const KernelVariant &variant);

/// Threads of a combine CTA, and the output columns each merges (one
/// 16-byte load per split).
constexpr int64_t kCombineThreads = 128;
constexpr int64_t kCombineColumnsPerThread = 4;

/// Creates the kernel `gpu.func` of `variant` at `b`'s insertion point: its
/// signature (arguments named by NameLocs), launch bounds and the
/// fa4.abi, fa4.features, fa4.config, fa4.grid, fa4.workspace (and, on the
/// TMA path, fa4.tensor_maps) attributes.
gpu::GPUFuncOp createKernelFunc(OpBuilder &b, Location loc,
                                const KernelVariant &variant);
/// Creates the `<name>_combine` kernel of a split-KV variant with its
/// metadata (features: kernel = "combine", dtype, head_dim_v).
gpu::GPUFuncOp createCombineFunc(OpBuilder &b, Location loc,
                                 const KernelVariant &variant);
/// Fills the combine kernel's body (CacheKernels.cpp).
void buildCombineKernel(OpBuilder &b, Location loc,
                        const KernelVariant &variant, gpu::GPUFuncOp func);

/// Threads of an append CTA.
constexpr int64_t kAppendThreads = 128;
/// The append kernel's parameters, in order.
SmallVector<ParamSpec> getAppendParams(KVAppendOp def);
/// Creates fa4.kv_append's kernel with its metadata (features: kernel =
/// "append", dtype, paged_kv).
gpu::GPUFuncOp createAppendFunc(OpBuilder &b, Location loc, KVAppendOp def);
/// Fills it (CacheKernels.cpp).
void buildAppendKernel(OpBuilder &b, Location loc, KVAppendOp def,
                       gpu::GPUFuncOp func);

/// Kernel arguments by parameter name.
class KernelArgs {
public:
  KernelArgs(gpu::GPUFuncOp func, ArrayRef<ParamSpec> params);
  /// The argument `name`; the variant must take it.
  Value operator[](StringRef name) const;

private:
  llvm::StringMap<Value> args;
};

} // namespace fa4
} // namespace mlir

#endif // FA4_DIALECT_FA4_TRANSFORMS_KERNELABI_H

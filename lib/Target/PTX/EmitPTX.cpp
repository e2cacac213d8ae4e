//===- EmitPTX.cpp - in-process PTX emission ------------------------------===//
//
// gpu.module (LLVM + NVVM dialects) -> LLVM IR -> fa4's LLVM pipeline
// (LLVMPipeline.cpp: O3, NVPTX) -> PTX text,
// plus the kernel metadata the runtime packs launch arguments from. All of it
// runs in the fa4-opt process: no llc, no ptxas, no files in between.
//
//===----------------------------------------------------------------------===//

#include "fa4/Target/PTX/EmitPTX.h"

#include "LLVMPipeline.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Triple.h"

#include <mutex>

namespace mlir {
namespace fa4 {
#define GEN_PASS_DEF_FA4EMITPTXPASS
#include "fa4/Target/PTX/Passes.h.inc"
} // namespace fa4
} // namespace mlir

using namespace mlir;
using namespace mlir::fa4;

static constexpr llvm::StringLiteral kNVPTXTriple = "nvptx64-nvidia-cuda";

/// Registers the NVPTX backend once per process and makes shared-memory
/// pointers 32-bit (`nvptx-short-ptr`, as Triton does): a 64-bit shared
/// address costs two registers for no benefit, shared memory being < 4 GB.
static void initializeNVPTX() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
    auto &options =
        llvm::cl::getRegisteredOptions();
    auto it = options.find("nvptx-short-ptr");
    if (it != options.end())
      static_cast<llvm::cl::opt<bool> *>(it->second)->setValue(true);
  });
}

/// Checks that every type in `module` is one LLVM IR can express: value
/// types and the types attributes name (a GEP's element type, a global's
/// type). MLIR 22's LLVM dialect verifier accepts, e.g., an
/// `llvm.getelementptr` whose element type is a non-LLVM type, and
/// translation then dereferences a null llvm::Type (upstream limitation;
/// test/Target/PTX/fa4-emit-ptx-invalid.mlir), so emission checks first.
static LogicalResult verifyTranslatableTypes(gpu::GPUModuleOp module) {
  auto check = [](Operation *op, Type type) -> LogicalResult {
    if (LLVM::isCompatibleType(type))
      return success();
    return op->emitOpError()
           << "uses type " << type << ", which LLVM IR cannot express";
  };
  WalkResult result = module.walk([&](Operation *op) -> WalkResult {
    for (Type type : op->getOperandTypes())
      if (failed(check(op, type)))
        return WalkResult::interrupt();
    for (Type type : op->getResultTypes())
      if (failed(check(op, type)))
        return WalkResult::interrupt();
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (Type type : block.getArgumentTypes())
          if (failed(check(op, type)))
            return WalkResult::interrupt();
    bool bad = false;
    auto checkAttr = [&](Attribute attr) {
      if (!attr)
        return;
      attr.walk([&](TypeAttr typeAttr) {
        if (!bad && failed(check(op, typeAttr.getValue())))
          bad = true;
      });
    };
    checkAttr(op->getRawDictionaryAttrs());
    checkAttr(op->getPropertiesAsAttribute());
    return bad ? WalkResult::interrupt() : WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

/// The kernels of `module` whose warps hold more than one m16 row group
/// (fa4.config's tile_m / num_warps > 16).
static llvm::StringSet<> getRowGroupKernels(gpu::GPUModuleOp module) {
  llvm::StringSet<> names;
  for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
    auto config = func->getAttrOfType<DictionaryAttr>("fa4.config");
    if (!config)
      continue;
    auto rows = config.getAs<IntegerAttr>("tile_m");
    auto warps = config.getAs<IntegerAttr>("num_warps");
    if (rows && warps && warps.getInt() > 0 &&
        rows.getInt() / warps.getInt() > 16)
      names.insert(func.getName());
  }
  return names;
}

FailureOr<std::string> fa4::translateToPTX(gpu::GPUModuleOp module,
                                           const TargetInfo &target,
                                           bool dumpLLVM, bool fullPipeline) {
  initializeNVPTX();
  if (failed(verifyTranslatableTypes(module)))
    return failure();
  llvm::StringSet<> rowGroupKernels = getRowGroupKernels(module);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, module.getName());
  if (!llvmModule)
    return module.emitError("failed to translate to LLVM IR");
  // What reaches the backend must be valid LLVM IR: the NVPTX backend
  // aborts on some invalid input instead of reporting it.
  std::string problems;
  llvm::raw_string_ostream problemStream(problems);
  if (llvm::verifyModule(*llvmModule, &problemStream))
    return module.emitError("the translated LLVM IR is invalid: ") << problems;

  llvm::Triple triple(kNVPTXTriple);
  std::string error;
  const llvm::Target *nvptx = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!nvptx)
    return module.emitError("NVPTX target unavailable: ") << error;
  std::unique_ptr<llvm::TargetMachine> machine(nvptx->createTargetMachine(
      triple, target.cpu, target.ptxFeatures, llvm::TargetOptions(),
      std::nullopt, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return module.emitError("cannot create an NVPTX target machine for ")
           << target.cpu;
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());

  std::optional<std::string> ptx = runLLVMPipeline(
      *llvmModule, *machine, rowGroupKernels, fullPipeline, dumpLLVM);
  if (!ptx)
    return module.emitError("NVPTX cannot emit assembly");
  return *ptx;
}

/// The metadata's type name of a kernel parameter type.
static FailureOr<StringRef> getParamTypeName(Type type) {
  if (auto ptr = dyn_cast<LLVM::LLVMPointerType>(type))
    return ptr.getAddressSpace() == 1 ? StringRef("ptr") : StringRef();
  if (type.isInteger(32))
    return StringRef("i32");
  if (type.isInteger(64))
    return StringRef("i64");
  if (type.isF32())
    return StringRef("f32");
  return failure();
}

/// A dictionary attribute of scalar entries as a JSON object.
/// Whether `attr` is an integer that fits int64_t (metadata integers are
/// 64-bit; a wider attribute is malformed input, not a value to truncate).
static bool isInt64(IntegerAttr attr) {
  return attr && attr.getValue().getSignificantBits() <= 64;
}

static FailureOr<llvm::json::Object> toJson(LLVM::LLVMFuncOp kernel,
                                            StringRef what,
                                            DictionaryAttr dict) {
  llvm::json::Object object;
  for (NamedAttribute entry : dict) {
    StringRef key = entry.getName().getValue();
    Attribute value = entry.getValue();
    if (auto b = dyn_cast<BoolAttr>(value))
      object[key] = b.getValue();
    else if (auto i = dyn_cast<IntegerAttr>(value); isInt64(i))
      object[key] = i.getValue().getSExtValue();
    else if (auto s = dyn_cast<StringAttr>(value))
      object[key] = s.getValue();
    else if (auto t = dyn_cast<TypeAttr>(value)) {
      std::string str;
      llvm::raw_string_ostream os(str);
      t.getValue().print(os);
      object[key] = str;
    } else
      return kernel.emitError() << what << " entry '" << key
                                << "' is not a bool, 64-bit integer, string "
                                   "or type";
  }
  return object;
}

/// One kernel's metadata.
static FailureOr<llvm::json::Object> buildKernelMetadata(LLVM::LLVMFuncOp kernel) {
  auto abi = kernel->getAttrOfType<ArrayAttr>("fa4.abi");
  auto features = kernel->getAttrOfType<DictionaryAttr>("fa4.features");
  auto config = kernel->getAttrOfType<DictionaryAttr>("fa4.config");
  auto grid = kernel->getAttrOfType<ArrayAttr>("fa4.grid");
  auto workspace = kernel->getAttrOfType<StringAttr>("fa4.workspace");
  auto smem = kernel->getAttrOfType<IntegerAttr>("fa4.smem_bytes");
  auto threads = kernel->getAttrOfType<DenseI32ArrayAttr>("nvvm.reqntid");
  if (!abi || !features || !smem || !threads)
    return kernel.emitError("kernel lacks fa4.abi, fa4.features, "
                            "fa4.smem_bytes or nvvm.reqntid");
  if (threads.size() != 3 || llvm::any_of(threads.asArrayRef(),
                                          [](int32_t n) { return n <= 0; }))
    return kernel.emitError("nvvm.reqntid must be three positive sizes");
  int64_t totalThreads = static_cast<int64_t>(threads[0]) * threads[1] *
                         threads[2];
  if (totalThreads > 1024)
    return kernel.emitError() << "nvvm.reqntid asks for " << totalThreads
                              << " threads; a CTA has at most 1024";
  if (!isInt64(smem) || smem.getValue().isNegative())
    return kernel.emitError("fa4.smem_bytes must be a non-negative 64-bit "
                            "integer");

  // The names recorded by fa4-tile-attention must describe the lowered
  // signature one to one: the runtime relies on it.
  ArrayRef<Type> paramTypes = kernel.getFunctionType().getParams();
  if (paramTypes.size() != abi.size())
    return kernel.emitError("fa4.abi names ")
           << abi.size() << " parameters but the kernel has "
           << paramTypes.size();
  auto tensorMaps = kernel->getAttrOfType<DictionaryAttr>("fa4.tensor_maps");
  llvm::StringSet<> seen;
  llvm::json::Array params;
  for (auto [name, type] : llvm::zip(abi, paramTypes)) {
    auto nameAttr = dyn_cast<StringAttr>(name);
    if (!nameAttr || nameAttr.getValue().empty())
      return kernel.emitError("fa4.abi entries must be non-empty strings");
    StringRef paramName = nameAttr.getValue();
    if (!seen.insert(paramName).second)
      return kernel.emitError() << "fa4.abi names '" << paramName
                                << "' twice";
    if (auto map = tensorMaps ? tensorMaps.getAs<DictionaryAttr>(paramName)
                              : DictionaryAttr()) {
      // A CUtensorMap passed by value: the runtime encodes it from the
      // tensor's pointer, shape and strides and this box.
      auto tensor = map.getAs<StringAttr>("tensor");
      auto rows = map.getAs<IntegerAttr>("box_rows");
      auto cols = map.getAs<IntegerAttr>("box_cols");
      auto swizzle = map.getAs<IntegerAttr>("swizzle");
      if (!tensor || !isInt64(rows) || !isInt64(cols) || !isInt64(swizzle))
        return kernel.emitError("incomplete fa4.tensor_maps entry for ")
               << paramName;
      params.push_back(llvm::json::Object{{"name", paramName},
                                          {"type", "tensor_map"},
                                          {"tensor", tensor.getValue()},
                                          {"box_rows", rows.getInt()},
                                          {"box_cols", cols.getInt()},
                                          {"swizzle", swizzle.getInt()}});
      continue;
    }
    FailureOr<StringRef> typeName = getParamTypeName(type);
    if (failed(typeName) || typeName->empty())
      return kernel.emitError("unsupported kernel parameter type ") << type;
    params.push_back(
        llvm::json::Object{{"name", paramName}, {"type", *typeName}});
  }

  FailureOr<llvm::json::Object> featureObject =
      toJson(kernel, "fa4.features", features);
  if (failed(featureObject))
    return failure();
  llvm::json::Object result{
      {"name", kernel.getName()},
      {"threads", totalThreads},
      {"smem_bytes", smem.getInt()},
      {"params", std::move(params)},
      {"features", std::move(*featureObject)},
  };
  if (config) {
    FailureOr<llvm::json::Object> configObject =
        toJson(kernel, "fa4.config", config);
    if (failed(configObject))
      return failure();
    result["config"] = std::move(*configObject);
  }
  // The launch rules: without them the runtime cannot launch the kernel,
  // so a kernel that has none is still described (tests emit such
  // kernels) but marked as not launchable by omission.
  if (grid) {
    llvm::json::Array dims;
    for (Attribute dim : grid) {
      auto expr = dyn_cast<StringAttr>(dim);
      if (!expr)
        return kernel.emitError("fa4.grid entries must be strings");
      dims.push_back(expr.getValue());
    }
    if (dims.size() != 3)
      return kernel.emitError("fa4.grid must give three dimensions");
    result["grid"] = std::move(dims);
  }
  if (workspace)
    result["workspace_bytes"] = workspace.getValue();
  return result;
}

FailureOr<llvm::json::Object>
fa4::buildModuleMetadata(gpu::GPUModuleOp module, const TargetInfo &target) {
  llvm::json::Array kernels;
  for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
    if (!func->hasAttr(NVVM::NVVMDialect::getKernelFuncAttrName()))
      continue;
    FailureOr<llvm::json::Object> kernel = buildKernelMetadata(func);
    if (failed(kernel))
      return failure();
    kernels.push_back(std::move(*kernel));
  }
  if (kernels.empty())
    return module.emitError("gpu.module '")
           << module.getName() << "' holds no kernel";
  return llvm::json::Object{{"module", module.getName()},
                            {"target", target.cpu},
                            {"kernels", std::move(kernels)}};
}

/// Marks the tensor-map parameters of `module`'s kernel as 128-byte
/// by-value grid constants (CUTLASS's `__grid_constant__ CUtensorMap`): the
/// TMA unit reads the descriptor straight from parameter space, no copy to
/// global memory and no proxy fence. `convert-gpu-to-nvvm` drops argument
/// attributes, and `nvvm.grid_constant` is valid only on an llvm.func
/// kernel, so this happens here, just before translation.
static void markTensorMapParams(gpu::GPUModuleOp module) {
  for (auto kernel : module.getOps<LLVM::LLVMFuncOp>()) {
    auto abi = kernel->getAttrOfType<ArrayAttr>("fa4.abi");
    auto maps = kernel->getAttrOfType<DictionaryAttr>("fa4.tensor_maps");
    if (!abi || !maps)
      continue;
    MLIRContext *ctx = kernel.getContext();
    Builder b(ctx);
    for (auto [index, name] : llvm::enumerate(abi)) {
      if (!maps.get(cast<StringAttr>(name).getValue()))
        continue;
      unsigned i = static_cast<unsigned>(index);
      kernel.setArgAttr(i, "llvm.byval",
                        TypeAttr::get(LLVM::LLVMArrayType::get(
                            IntegerType::get(ctx, 8), 128)));
      kernel.setArgAttr(i, "llvm.align", b.getI64IntegerAttr(64));
      kernel.setArgAttr(i, NVVM::NVVMDialect::getGridConstantAttrName(),
                        b.getUnitAttr());
    }
  }
}

namespace {

/// Writes `contents` to `path`.
static LogicalResult writeFile(Location loc, StringRef path,
                               StringRef contents) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return emitError(loc) << "cannot write " << path << ": " << ec.message();
  os << contents;
  return success();
}

/// Whether `name` can be a PTX identifier and a file name: a letter or
/// underscore first, then letters, digits, '_' or '$' (no '/' or '.').
static bool isPtxIdentifier(StringRef name) {
  if (name.empty() || !(llvm::isAlpha(name.front()) || name.front() == '_'))
    return false;
  return llvm::all_of(name, [](char c) {
    return llvm::isAlnum(c) || c == '_' || c == '$';
  });
}

struct FA4EmitPTXPass final : fa4::impl::FA4EmitPTXPassBase<FA4EmitPTXPass> {
  using Base::Base;

  /// The chip of `module`: its #nvvm.target's, or the `chip` option's for a
  /// module without one.
  FailureOr<const TargetInfo *> resolveTarget(gpu::GPUModuleOp module) {
    bool hasTarget = false;
    if (ArrayAttr targets = module.getTargetsAttr())
      hasTarget = llvm::any_of(targets, [](Attribute a) {
        return isa<NVVM::NVVMTargetAttr>(a);
      });
    if (!hasTarget) {
      std::optional<Chip> parsed = parseChip(chip);
      if (!parsed)
        return module.emitError()
               << "gpu.module '" << module.getName()
               << "' has no #nvvm.target and fa4-emit-ptx's chip option ('"
               << chip << "') names no known chip";
      return &getTargetInfo(*parsed);
    }
    FailureOr<const TargetInfo *> target = getModuleTarget(module);
    if (failed(target))
      return failure();
    if (!chip.empty()) {
      std::optional<Chip> parsed = parseChip(chip);
      if (!parsed || *parsed != (*target)->chip)
        return module.emitError()
               << "gpu.module '" << module.getName() << "' targets "
               << (*target)->cpu << " but fa4-emit-ptx was asked for '"
               << chip << "'";
    }
    return target;
  }

  void runOnOperation() override {
    ModuleOp top = getOperation();
    if (!outputDir.empty()) {
      if (std::error_code ec = llvm::sys::fs::create_directories(outputDir)) {
        top.emitError() << "cannot create " << outputDir << ": "
                        << ec.message();
        return signalPassFailure();
      }
    }

    SmallVector<gpu::GPUModuleOp> modules(top.getOps<gpu::GPUModuleOp>());
    for (gpu::GPUModuleOp module : modules) {
      // The module name becomes a file name and the kernels' PTX names.
      if (!isPtxIdentifier(module.getName())) {
        module.emitError() << "gpu.module name '" << module.getName()
                           << "' is not a PTX identifier (a letter or '_', "
                              "then letters, digits, '_' or '$')";
        return signalPassFailure();
      }
      // Every symbol becomes a PTX name (NVPTX aborts on others).
      WalkResult names = module.walk([](SymbolOpInterface symbol) {
        if (isPtxIdentifier(symbol.getName()))
          return WalkResult::advance();
        symbol.emitError() << "symbol name '" << symbol.getName()
                           << "' is not a PTX identifier";
        return WalkResult::interrupt();
      });
      if (names.wasInterrupted())
        return signalPassFailure();
      FailureOr<const TargetInfo *> target = resolveTarget(module);
      if (failed(target))
        return signalPassFailure();
      FailureOr<llvm::json::Object> metadata =
          buildModuleMetadata(module, **target);
      if (failed(metadata))
        return signalPassFailure();
      markTensorMapParams(module);
      FailureOr<std::string> ptx =
          translateToPTX(module, **target, dumpLLVM, fullLLVMPipeline);
      if (failed(ptx))
        return signalPassFailure();

      std::string json;
      llvm::raw_string_ostream(json)
          << llvm::formatv("{0:2}", llvm::json::Value(std::move(*metadata)))
          << "\n";
      if (!outputDir.empty()) {
        SmallString<128> base(outputDir);
        llvm::sys::path::append(base, module.getName());
        if (failed(writeFile(module.getLoc(), (base + ".ptx").str(), *ptx)) ||
            failed(writeFile(module.getLoc(), (base + ".json").str(), json)))
          return signalPassFailure();
      }

      // Keep the result in the IR, as upstream's gpu-module-to-binary does.
      OpBuilder b(module);
      MLIRContext *ctx = &getContext();
      auto nvvmTarget = NVVM::NVVMTargetAttr::get(
          ctx, /*optLevel=*/3, kNVPTXTriple, (*target)->cpu,
          (*target)->ptxFeatures);
      auto object = gpu::ObjectAttr::get(
          ctx, nvvmTarget, gpu::CompilationTarget::Assembly,
          b.getStringAttr(*ptx),
          b.getDictionaryAttr({b.getNamedAttr("fa4.metadata",
                                              b.getStringAttr(json))}),
          /*kernels=*/nullptr);
      gpu::BinaryOp::create(b, module.getLoc(), module.getName(),
                            /*offloadingHandler=*/nullptr,
                            b.getArrayAttr({object}));
      module.erase();
    }
  }
};

} // namespace

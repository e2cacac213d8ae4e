//===- EmitPTX.cpp - in-process PTX emission ------------------------------===//
//
// gpu.module (LLVM + NVVM dialects) -> LLVM IR -> O3 -> NVPTX -> PTX text,
// plus the kernel metadata the runtime packs launch arguments from. All of it
// runs in the fa4-opt process: no llc, no ptxas, no files in between.
//
//===----------------------------------------------------------------------===//

#include "fa4/Target/PTX/EmitPTX.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Transforms/Utils/Local.h"
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

/// Re-creates `base + constant` shared-memory addresses in the block of each
/// access. LICM hoists every loop-invariant address of a swizzled tile out of
/// the main loop; instruction selection works block by block, so the
/// constant could then no longer become the access's immediate offset and
/// each address would hold a register across the loop (80 per loop at
/// D = 128, enough to spill). CodeGenPrepare does this for loads and stores
/// but not for the ldmatrix / cp.async intrinsics. Afterwards only the few
/// per-lane swizzled bases stay live.
static void sinkSharedAddressOffsets(llvm::Function &func) {
  const llvm::DataLayout &layout = func.getDataLayout();
  SmallVector<llvm::WeakTrackingVH> hoisted;
  for (llvm::BasicBlock &block : func) {
    for (llvm::Instruction &inst : block) {
      if (!llvm::isa<llvm::CallInst, llvm::LoadInst, llvm::StoreInst>(inst))
        continue;
      for (llvm::Use &use : inst.operands()) {
        auto *ptrType = llvm::dyn_cast<llvm::PointerType>(use->getType());
        auto *gep = llvm::dyn_cast<llvm::GetElementPtrInst>(use.get());
        if (!ptrType || ptrType->getAddressSpace() != 3 || !gep ||
            gep->getParent() == &block)
          continue;
        llvm::APInt offset(layout.getIndexTypeSizeInBits(ptrType), 0);
        llvm::Value *base = gep->stripAndAccumulateConstantOffsets(
            layout, offset, /*AllowNonInbounds=*/true);
        if (base == gep || offset.isZero())
          continue;
        llvm::IRBuilder<> builder(&inst);
        use.set(builder.CreatePtrAdd(base, builder.getInt(offset)));
        if (gep->use_empty())
          hoisted.push_back(gep);
      }
    }
  }
  // The hoisted originals must go: the GVN in NVPTX's codegen pipeline would
  // otherwise replace each re-created address by its dominating twin.
  for (llvm::WeakTrackingVH &gep : hoisted)
    if (gep)
      llvm::RecursivelyDeleteTriviallyDeadInstructions(gep);
}

FailureOr<std::string> fa4::translateToPTX(gpu::GPUModuleOp module,
                                           const TargetInfo &target) {
  initializeNVPTX();
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, module.getName());
  if (!llvmModule)
    return module.emitError("failed to translate to LLVM IR");

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

  // ---- LLVM O3 ----
  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder builder(machine.get());
    builder.registerModuleAnalyses(mam);
    builder.registerCGSCCAnalyses(cgam);
    builder.registerFunctionAnalyses(fam);
    builder.registerLoopAnalyses(lam);
    builder.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm =
        builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
    mpm.run(*llvmModule, mam);
  }
  for (llvm::Function &func : *llvmModule)
    if (!func.isDeclaration())
      sinkSharedAddressOffsets(func);
  if (getenv("FA4_DUMP_LLVM"))
    llvmModule->print(llvm::errs(), nullptr);

  // ---- NVPTX code generation ----
  std::string ptx;
  {
    llvm::raw_string_ostream stream(ptx);
    llvm::buffer_ostream pstream(stream);
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, pstream, nullptr,
                                     llvm::CodeGenFileType::AssemblyFile))
      return module.emitError("NVPTX cannot emit assembly");
    codegen.run(*llvmModule);
  }
  return ptx;
}

/// The PTX-level type name of a kernel parameter type.
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

FailureOr<llvm::json::Object>
fa4::buildKernelMetadata(gpu::GPUModuleOp module, const TargetInfo &target) {
  SmallVector<LLVM::LLVMFuncOp> kernels;
  for (auto func : module.getOps<LLVM::LLVMFuncOp>())
    if (func->hasAttr(NVVM::NVVMDialect::getKernelFuncAttrName()))
      kernels.push_back(func);
  if (kernels.size() != 1)
    return module.emitError("expected exactly one kernel, found ")
           << kernels.size();
  LLVM::LLVMFuncOp kernel = kernels.front();

  auto abi = kernel->getAttrOfType<ArrayAttr>("fa4.abi");
  auto features = kernel->getAttrOfType<DictionaryAttr>("fa4.features");
  auto smem = kernel->getAttrOfType<IntegerAttr>("fa4.smem_bytes");
  auto threads = kernel->getAttrOfType<DenseI32ArrayAttr>("nvvm.reqntid");
  if (!abi || !features || !smem || !threads)
    return kernel.emitError("kernel lacks fa4.abi, fa4.features, "
                            "fa4.smem_bytes or nvvm.reqntid");

  // The names recorded by fa4-tile-attention must describe the lowered
  // signature one to one: the runtime relies on it.
  ArrayRef<Type> paramTypes = kernel.getFunctionType().getParams();
  if (paramTypes.size() != abi.size())
    return kernel.emitError("fa4.abi names ")
           << abi.size() << " parameters but the kernel has "
           << paramTypes.size();
  auto tensorMaps = kernel->getAttrOfType<DictionaryAttr>("fa4.tensor_maps");
  llvm::json::Array params;
  for (auto [name, type] : llvm::zip(abi, paramTypes)) {
    StringRef paramName = cast<StringAttr>(name).getValue();
    if (auto map = tensorMaps ? tensorMaps.getAs<DictionaryAttr>(paramName)
                              : DictionaryAttr()) {
      // A CUtensorMap passed by value: the runtime encodes it from the
      // tensor's pointer, shape and strides and this box.
      auto tensor = map.getAs<StringAttr>("tensor");
      auto rows = map.getAs<IntegerAttr>("box_rows");
      auto cols = map.getAs<IntegerAttr>("box_cols");
      auto swizzle = map.getAs<IntegerAttr>("swizzle");
      if (!tensor || !rows || !cols || !swizzle)
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

  llvm::json::Object featureObject;
  for (NamedAttribute entry : features) {
    Attribute value = entry.getValue();
    if (auto b = dyn_cast<BoolAttr>(value))
      featureObject[entry.getName().getValue()] = b.getValue();
    else if (auto i = dyn_cast<IntegerAttr>(value))
      featureObject[entry.getName().getValue()] = i.getInt();
    else if (auto s = dyn_cast<StringAttr>(value))
      featureObject[entry.getName().getValue()] = s.getValue();
    else if (auto t = dyn_cast<TypeAttr>(value)) {
      std::string str;
      llvm::raw_string_ostream os(str);
      t.getValue().print(os);
      featureObject[entry.getName().getValue()] = str;
    }
  }

  ArrayRef<int32_t> block = threads.asArrayRef();
  return llvm::json::Object{
      {"name", kernel.getName()},
      {"target", target.cpu},
      {"threads", static_cast<int64_t>(block[0]) * block[1] * block[2]},
      {"smem_bytes", smem.getInt()},
      {"params", std::move(params)},
      {"features", std::move(featureObject)},
  };
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

struct FA4EmitPTXPass final : fa4::impl::FA4EmitPTXPassBase<FA4EmitPTXPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp top = getOperation();
    std::optional<Chip> parsed = parseChip(chip);
    if (!parsed) {
      top.emitError() << "fa4-emit-ptx: unknown chip '" << chip << "'";
      return signalPassFailure();
    }
    const TargetInfo &target = getTargetInfo(*parsed);
    if (!outputDir.empty()) {
      if (std::error_code ec = llvm::sys::fs::create_directories(outputDir)) {
        top.emitError() << "cannot create " << outputDir << ": "
                        << ec.message();
        return signalPassFailure();
      }
    }

    SmallVector<gpu::GPUModuleOp> modules(top.getOps<gpu::GPUModuleOp>());
    for (gpu::GPUModuleOp module : modules) {
      FailureOr<llvm::json::Object> metadata =
          buildKernelMetadata(module, target);
      if (failed(metadata))
        return signalPassFailure();
      markTensorMapParams(module);
      FailureOr<std::string> ptx = translateToPTX(module, target);
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
          ctx, /*optLevel=*/3, kNVPTXTriple, target.cpu, target.ptxFeatures);
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

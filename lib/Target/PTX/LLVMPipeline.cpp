//===- LLVMPipeline.cpp - fa4's LLVM passes for NVPTX ---------------------===//
//
// O3, fa4's IR fixes and NVPTX code generation for one translated module.
//
// fa4 runs LLVM's O3 and NVPTX pipelines less fifteen passes that find
// nothing to change in its kernels: with and without them, every definition
// in kernels/ compiles to byte-identical PTX for sm_120a, sm_121a and sm_90
// (tools/check-llvm-pipeline.sh compares the two; a lit test does it for a
// few kernels on every build). They cost about 15% of a variant's compile
// time, more on the largest kernels (bench/RESULTS.md, 2026-12-04).
//
//===----------------------------------------------------------------------===//

#include "LLVMPipeline.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/OptBisect.h"
#include "llvm/IR/PassInstrumentation.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Transforms/Scalar/Scalarizer.h"
#include "llvm/Transforms/Utils/Local.h"

using namespace mlir;
using namespace mlir::fa4;
using llvm::SmallVector;
using llvm::StringRef;

/// The passes of LLVM's O3 and NVPTX code-generation pipelines that fa4 does
/// not run, by the names their pass managers report; `#n` is the n-th run of
/// the pass on a function. The byte-identical PTX is the proof that each can
/// go; the reasons it holds: the module reaches LLVM folded (by the dialect
/// conversions) and CSE'd by MLIR, one kernel (two with a split-KV combine)
/// without calls, memcpys or stores that a later store overwrites.
static constexpr llvm::StringLiteral kSkippedPasses[] = {
    // O3. No indirect calls; no constants left for a second SCCP after
    // IPSCCP; no dead or overwritten stores, memcpys, or unreachable
    // code; no branch on a value known along a predecessor; no scalar
    // pattern AggressiveInstCombine or VectorCombine rewrites; and the
    // first four of InstCombine's eight runs leave nothing for the fifth
    // to seventh (the eighth, after loop unrolling, does change code).
    "CalledValuePropagationPass",
    "SCCPPass",
    "DSEPass",
    "ADCEPass",
    "MemCpyOptPass",
    "JumpThreadingPass",
    "AggressiveInstCombinePass",
    "VectorCombinePass",
    "InstCombinePass#5",
    "InstCombinePass#6",
    "InstCombinePass#7",
    // NVPTX code generation's straight-line scalar optimizations: fa4
    // computes each address as a per-lane base plus constants, so
    // straight-line strength reduction and n-ary reassociation find no
    // candidates, and the GVN and EarlyCSE that clean up after them find
    // nothing to clean. (Straight-line strength reduction alone took 15-65
    // ms on the largest kernels: it compares candidates pairwise.)
    "slsr",
    "gvn#1",
    "nary-reassociate",
    "early-cse",
};

namespace {

/// Answers whether a pass runs: not if kSkippedPasses names it, or
/// names this run of it on this IR unit. The legacy pass manager of code
/// generation asks the LLVMContext's gate; the new one of O3 asks through
/// a PassInstrumentationCallbacks hook.
class SkippedPassGate : public llvm::OptPassGate {
public:
  bool shouldRunPass(StringRef pass, StringRef unit) const override {
    unsigned run = ++runs[(pass + "|" + unit).str()];
    for (StringRef skipped : kSkippedPasses) {
      auto [name, index] = skipped.split('#');
      if (name != pass)
        continue;
      if (index.empty() || index == std::to_string(run))
        return false;
    }
    return true;
  }
  bool isEnabled() const override { return true; }

private:
  mutable llvm::StringMap<unsigned> runs;
};

} // namespace

/// The function a new-pass-manager IR unit belongs to, or "" for a module
/// or call-graph unit (whose passes run once).
static StringRef getFunctionName(const llvm::Any &unit) {
  if (const auto *func = llvm::any_cast<const llvm::Function *>(&unit))
    return (*func)->getName();
  if (const auto *loop = llvm::any_cast<const llvm::Loop *>(&unit))
    return (*loop)->getHeader()->getParent()->getName();
  return "";
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

std::optional<std::string>
fa4::runLLVMPipeline(llvm::Module &module, llvm::TargetMachine &machine,
                     const llvm::StringSet<> &rowGroupKernels,
                     bool fullPipeline, bool dumpLLVM) {
  SkippedPassGate gate;
  llvm::LLVMContext &context = module.getContext();
  if (!fullPipeline)
    context.setOptPassGate(gate);
  // The gate lives on this stack frame; the context outlives it.
  llvm::scope_exit restoreGate(
      [&] { context.setOptPassGate(llvm::getGlobalPassGate()); });

  // ---- LLVM O3 ----
  {
    llvm::PassInstrumentationCallbacks callbacks;
    if (!fullPipeline)
      callbacks.registerShouldRunOptionalPassCallback(
          [&](StringRef pass, llvm::Any unit) {
            return gate.shouldRunPass(pass, getFunctionName(unit));
          });
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder builder(&machine, llvm::PipelineTuningOptions(),
                              std::nullopt, &callbacks);
    builder.registerModuleAnalyses(mam);
    builder.registerCGSCCAnalyses(cgam);
    builder.registerFunctionAnalyses(fam);
    builder.registerLoopAnalyses(lam);
    builder.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm =
        builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
    mpm.run(module, mam);
    // Kernels whose warps hold two or more m16 row groups: their loop
    // carries the accumulator tiles as <N x float> phis, which NVPTX
    // legalizes to pairs in 64-bit registers (a `mov.b64` splits and
    // rejoins each pair every iteration), and ptxas must then allocate
    // aligned pairs for up to 160 values. Scalarized, it allocates single
    // registers: the 32-row-warp D = 96 kernel went from 24-48 bytes of
    // spill on sm_120a to none (bench/RESULTS.md, run 48). The 16-row-warp
    // kernels keep their vectors: scalarized, ten of the D = 192 / 224
    // varlen and paged ones spilled 20-68 bytes (16 builds for sm_120a /
    // sm_121a). The rule is the one getLdmatrixForm applies during
    // lowering (more than one row group per warp), read here from the
    // kernel's fa4.config because the tile types are gone by now.
    llvm::ScalarizerPassOptions options;
    options.ScalarizeVariableInsertExtract = true;
    options.ScalarizeLoadStore = true;
    llvm::FunctionPassManager scalarize;
    scalarize.addPass(llvm::ScalarizerPass(options));
    for (llvm::Function &func : module)
      if (!func.isDeclaration() && rowGroupKernels.contains(func.getName()))
        scalarize.run(func, fam);
  }
  for (llvm::Function &func : module)
    if (!func.isDeclaration())
      sinkSharedAddressOffsets(func);
  if (dumpLLVM)
    module.print(llvm::errs(), nullptr);

  // ---- NVPTX code generation ----
  std::string ptx;
  {
    llvm::raw_string_ostream stream(ptx);
    llvm::buffer_ostream pstream(stream);
    llvm::legacy::PassManager codegen;
    if (machine.addPassesToEmitFile(codegen, pstream, nullptr,
                                    llvm::CodeGenFileType::AssemblyFile))
      return std::nullopt;
    codegen.run(module);
  }
  return ptx;
}

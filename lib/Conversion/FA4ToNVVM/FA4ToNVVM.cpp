//===- FA4ToNVVM.cpp - fa4 block program to NVVM --------------------------===//
//
// The convert-fa4-to-nvvm pass: one dialect conversion that lowers the
// scheduled block program to what the NVPTX backend emits as cp.async,
// cp.async.bulk.tensor, mbarrier, ldmatrix, mma.sync.m16n8k16, shfl.sync and
// ex2.approx. The register tiles become per-thread vectors (the type
// conversions below; scf loops carry them through the structural type
// conversion); the patterns live in one file per concern (Patterns.h) and
// share one fragment layout (Layouts.h) and one warp GEMM (WarpGemm.h).
//
//===----------------------------------------------------------------------===//

#include "fa4/Conversion/FA4ToNVVM/FA4ToNVVM.h"
#include "Patterns.h"
#include "fa4/Conversion/Passes.h"
#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/IR/FA4Target.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir {
namespace fa4 {
#define GEN_PASS_DEF_CONVERTFA4TONVVMPASS
#include "fa4/Conversion/Passes.h.inc"
} // namespace fa4
} // namespace mlir

using namespace mlir;
using namespace mlir::fa4;

FailureOr<int64_t> fa4::getNumThreads(Operation *op) {
  auto func = dyn_cast<gpu::GPUFuncOp>(op);
  if (!func)
    func = op->getParentOfType<gpu::GPUFuncOp>();
  if (!func || !func.getKnownBlockSizeAttr())
    return op->emitOpError("needs an enclosing gpu.func with known_block_size");
  // The lowering indexes threads by tid.x and warps by tid.x / 32: a block
  // of whole warps along x, within what any target allows.
  ArrayRef<int32_t> size = func.getKnownBlockSizeAttr().asArrayRef();
  int64_t maxThreads = 32 * getLimitsOfAnyTarget().maxWarps;
  if (size.size() != 3 || size[1] != 1 || size[2] != 1 || size[0] < 32 ||
      size[0] > maxThreads || size[0] % 32 != 0)
    return op->emitOpError()
           << "needs known_block_size = [x, 1, 1] with x a multiple of 32 in "
              "[32, "
           << maxThreads << "], got " << func.getKnownBlockSizeAttr();
  return static_cast<int64_t>(size[0]);
}

/// The warps a value of `type` is distributed over, or 0 for other types.
static int64_t getTypeWarps(Type type) {
  return llvm::TypeSwitch<Type, int64_t>(type)
      .Case<AccTileType, AFragType, RowStatsType>(
          [](auto tile) { return tile.getWarps(); })
      .Default([](Type) { return 0; });
}

/// Checks, before any pattern runs, that each kernel's block has the
/// threads its register tiles are distributed over: a tile over more warps
/// than the block has would silently leave rows unwritten.
static LogicalResult verifyBlockShapes(gpu::GPUModuleOp module) {
  WalkResult result = module.walk([&](Operation *op) -> WalkResult {
    if (!isa_and_nonnull<FA4Dialect>(op->getDialect()))
      return WalkResult::advance();
    int64_t warps = 0;
    for (Type type : op->getOperandTypes())
      warps = std::max(warps, getTypeWarps(type));
    for (Type type : op->getResultTypes())
      warps = std::max(warps, getTypeWarps(type));
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (Type type : block.getArgumentTypes())
          warps = std::max(warps, getTypeWarps(type));
    if (warps == 0)
      return WalkResult::advance();
    FailureOr<int64_t> threads = getNumThreads(op);
    if (failed(threads))
      return WalkResult::interrupt();
    if (warps * 32 > *threads) {
      op->emitOpError() << "distributes a tile over " << warps
                        << " warps, but the block has " << *threads
                        << " threads";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

namespace {

struct ConvertFA4ToNVVMPass final
    : fa4::impl::ConvertFA4ToNVVMPassBase<ConvertFA4ToNVVMPass> {
  using Base::Base;

  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);
    if (failed(verifyBlockShapes(module)))
      return signalPassFailure();

    // One dynamic shared-memory array per module: `.extern .shared .align
    // 1024 .b8 fa4_smem[]`, sized at launch.
    if (!module.lookupSymbol(kSharedMemorySymbol)) {
      b.setInsertionPointToStart(module.getBody());
      LLVM::GlobalOp::create(
          b, module.getLoc(), LLVM::LLVMArrayType::get(b.getI8Type(), 0),
          /*isConstant=*/false, LLVM::Linkage::External, kSharedMemorySymbol,
          Attribute(), /*alignment=*/1024, /*addrSpace=*/3);
    }

    TypeConverter converter;
    converter.addConversion([](Type type) { return type; });
    populateFA4ToNVVMTypeConversions(converter);

    ConversionTarget target(*ctx);
    target.addIllegalDialect<FA4Dialect>();
    target.addLegalDialect<arith::ArithDialect, gpu::GPUDialect,
                           LLVM::LLVMDialect, NVVM::NVVMDialect,
                           vector::VectorDialect>();
    RewritePatternSet patterns(ctx);
    scf::populateSCFStructuralTypeConversionsAndLegality(converter, patterns,
                                                         target);
    populateFA4ToNVVMConversionPatterns(converter, patterns);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    // Launch bounds: exactly the threads the tile configuration uses
    // (`.reqntid`; known_block_size would become the weaker `.maxntid`).
    for (auto func : module.getOps<gpu::GPUFuncOp>()) {
      if (DenseI32ArrayAttr size = func.getKnownBlockSizeAttr()) {
        func->setAttr("nvvm.reqntid", size);
        func.removeKnownBlockSizeAttr();
      }
    }
  }
};

} // namespace

void fa4::populateFA4ToNVVMTypeConversions(TypeConverter &converter) {
  converter.addConversion([](AccTileType type) -> Type {
    return VectorType::get({type.getValuesPerThread()}, type.getElementType());
  });
  converter.addConversion([](RowStatsType type) -> Type {
    return VectorType::get({type.getValuesPerThread()},
                           Float32Type::get(type.getContext()));
  });
  converter.addConversion([](AFragType type) -> Type {
    return VectorType::get({type.getRegistersPerThread()},
                           IntegerType::get(type.getContext(), 32));
  });
  converter.addConversion([](MBarriersType type) -> Type {
    return LLVM::LLVMPointerType::get(type.getContext(), 3);
  });
  converter.addConversion([](SmemTileType type) -> Type {
    return LLVM::LLVMPointerType::get(type.getContext(), 3);
  });
}

void fa4::populateFA4ToNVVMConversionPatterns(const TypeConverter &converter,
                                              RewritePatternSet &patterns) {
  populateStructurePatterns(converter, patterns);
  populateLoadPatterns(converter, patterns);
  populateMmaPatterns(converter, patterns);
  populateSoftmaxPatterns(converter, patterns);
  populateDropoutPatterns(converter, patterns);
  populateStorePatterns(converter, patterns);
  populateCombinePatterns(converter, patterns);
  populateBarrierPatterns(converter, patterns);
}

//===- Emitter.cpp - scalar and intrinsic emission helpers ----------------===//
//
// The out-of-line helpers of Emitter: the ones that build more than one op or
// need an enclosing kernel.
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <limits>

using namespace mlir;
using namespace mlir::fa4;

Value Emitter::negInf() {
  return f32(-std::numeric_limits<double>::infinity());
}

Value Emitter::exp2(Value x) {
  return LLVM::CallIntrinsicOp::create(
             b, loc, f32Ty, b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f32"),
             ValueRange{x})
      .getResult(0);
}

Value Emitter::tanh(Value x) {
  auto afn = LLVM::FastmathFlagsAttr::get(ctx, LLVM::FastmathFlags::afn);
  return LLVM::TanhOp::create(b, loc, x, afn);
}

Value Emitter::log2(Value x) {
  return LLVM::CallIntrinsicOp::create(
             b, loc, f32Ty, b.getStringAttr("llvm.nvvm.lg2.approx.f"),
             ValueRange{x})
      .getResult(0);
}

Value Emitter::tid() {
  LLVM::ConstantRangeAttr range;
  Operation *parent = b.getInsertionBlock()->getParentOp();
  auto func = dyn_cast<gpu::GPUFuncOp>(parent);
  if (!func)
    func = parent->getParentOfType<gpu::GPUFuncOp>();
  if (func)
    if (DenseI32ArrayAttr size = func.getKnownBlockSizeAttr())
      range = LLVM::ConstantRangeAttr::get(ctx, 32, 0, size[0]);
  return NVVM::ThreadIdXOp::create(b, loc, i32Ty, range);
}

Value Emitter::shuffleXor(Value v, int64_t mask) {
  Value members = i32(-1);
  Value laneMask = i32(mask);
  Value clamp = i32(0x1f);
  return NVVM::ShflOp::create(b, loc, f32Ty, members, v, laneMask, clamp,
                              NVVM::ShflKind::bfly, UnitAttr())
      .getResult();
}

SmallVector<Value> Emitter::unpack(Value vec) {
  auto type = cast<VectorType>(vec.getType());
  SmallVector<Value> values;
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i)
    values.push_back(vector::ExtractOp::create(b, loc, vec, i));
  return values;
}

Value Emitter::pack(ArrayRef<Value> values) {
  auto type = VectorType::get({static_cast<int64_t>(values.size())},
                              values.front().getType());
  return vector::FromElementsOp::create(b, loc, type, values);
}

Value Emitter::packPair(Value lo, Value hi, Type elementType) {
  Value pair = vector::FromElementsOp::create(
      b, loc, VectorType::get({2}, f32Ty), ValueRange{lo, hi});
  Value narrow = arith::TruncFOp::create(
      b, loc, VectorType::get({2}, elementType), pair);
  Value asInt =
      vector::BitCastOp::create(b, loc, VectorType::get({1}, i32Ty), narrow);
  return vector::ExtractOp::create(b, loc, asInt, 0);
}

std::array<Value, 4> Emitter::ldmatrixX4(Value ptr, bool transpose) {
  auto structTy =
      LLVM::LLVMStructType::getLiteral(ctx, {i32Ty, i32Ty, i32Ty, i32Ty});
  Value result = NVVM::LdMatrixOp::create(
      b, loc, structTy, ptr, /*num=*/4,
      transpose ? NVVM::MMALayout::col : NVVM::MMALayout::row,
      NVVM::LdStMatrixShapeAttr::get(ctx, 8, 8), NVVM::LdStMatrixEltType::B16);
  std::array<Value, 4> regs;
  for (int64_t i = 0; i < 4; ++i)
    regs[i] = LLVM::ExtractValueOp::create(b, loc, result, i);
  return regs;
}

std::array<Value, 4> Emitter::mma(Type elementType, ArrayRef<Value> a,
                                  ArrayRef<Value> bFrag, ArrayRef<Value> c) {
  SmallVector<Value, 4> aOps(a), bOps(bFrag);
  NVVM::MMATypes ptxType = NVVM::MMATypes::bf16;
  if (elementType.isF16()) {
    // The f16 form takes vector<2xf16> operands; bf16 takes i32 (MLIR 22's
    // nvgpu.mma.sync has no bf16 case, so fa4 emits nvvm.mma.sync itself).
    ptxType = NVVM::MMATypes::f16;
    auto half2 = VectorType::get({2}, elementType);
    for (Value &v : aOps)
      v = LLVM::BitcastOp::create(b, loc, half2, v);
    for (Value &v : bOps)
      v = LLVM::BitcastOp::create(b, loc, half2, v);
  }
  auto structTy =
      LLVM::LLVMStructType::getLiteral(ctx, {f32Ty, f32Ty, f32Ty, f32Ty});
  Value d = NVVM::MmaOp::create(
      b, loc, structTy, aOps, bOps, c, /*shape=*/{16, 8, 16},
      /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
      std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  std::array<Value, 4> out;
  for (int64_t i = 0; i < 4; ++i)
    out[i] = LLVM::ExtractValueOp::create(b, loc, d, i);
  return out;
}

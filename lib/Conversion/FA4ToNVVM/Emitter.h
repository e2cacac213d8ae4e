//===- Emitter.h - scalar and intrinsic emission helpers --------*- C++ -*-===//
//
// The scalar code every fa4-to-NVVM pattern emits: i32/f32 arithmetic, lane
// and warp indices, quad reductions, shared-memory addressing, and the
// ldmatrix / mma.sync / ex2 / lg2 instructions.
//
// Every helper creates an op, and C++ leaves the order in which a call's
// arguments are evaluated unspecified (GCC goes right to left, Clang left to
// right). So no call takes two op-creating arguments: each gets its own
// statement, and the kernels do not depend on the host compiler.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_CONVERSION_FA4TONVVM_EMITTER_H
#define FA4_LIB_CONVERSION_FA4TONVVM_EMITTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

#include <array>

namespace mlir {
namespace fa4 {

/// Thin wrapper over a builder for the scalar code the patterns emit.
class Emitter {
public:
  Emitter(OpBuilder &b, Location loc)
      : b(b), loc(loc), ctx(b.getContext()), i32Ty(b.getI32Type()),
        f32Ty(b.getF32Type()) {}

  Value i32(int64_t v) { return arith::ConstantIntOp::create(b, loc, i32Ty, v); }
  Value f32(double v) {
    return arith::ConstantFloatOp::create(b, loc, cast<FloatType>(f32Ty),
                                          APFloat(static_cast<float>(v)));
  }
  Value negInf();

  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value band(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value bor(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value bxor(Value x, Value y) { return arith::XOrIOp::create(b, loc, x, y); }
  Value shl(Value x, int64_t s) {
    return arith::ShLIOp::create(b, loc, x, i32(s));
  }
  Value shr(Value x, int64_t s) {
    return arith::ShRUIOp::create(b, loc, x, i32(s));
  }
  Value divU(Value x, int64_t d) {
    return arith::DivUIOp::create(b, loc, x, i32(d));
  }
  Value remU(Value x, int64_t d) {
    return arith::RemUIOp::create(b, loc, x, i32(d));
  }
  Value minS(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value maxS(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }

  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value fsub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  /// |x| by clearing the sign bit: LLVM folds it to fabs (abs.f32), and,
  /// unlike llvm.intr.fabs, gpu-to-nvvm keeps it legal.
  Value fabs(Value x) {
    Value bits = arith::BitcastOp::create(b, loc, i32Ty, x);
    Value magnitude = band(bits, i32(0x7fffffff));
    return arith::BitcastOp::create(b, loc, f32Ty, magnitude);
  }
  /// llvm.maxnum: `max.f32` (arith.maxnumf would become a libdevice call).
  Value fmax(Value x, Value y) { return LLVM::MaxNumOp::create(b, loc, x, y); }
  Value fma(Value x, Value y, Value z) {
    return LLVM::FMAOp::create(b, loc, x, y, z);
  }
  Value fneg(Value x) { return arith::NegFOp::create(b, loc, x); }
  /// ex2.approx.ftz.f32: one MUFU op; exp2(-inf) = +0.
  Value exp2(Value x);
  /// tanh.approx.f32 (llvm.tanh with afn, which NVPTX selects on sm_75+):
  /// one MUFU op, relative error 2^-10.987.
  Value tanh(Value x);
  /// lg2.approx.f32.
  Value log2(Value x);

  /// Thread index in the CTA, with the range of the enclosing kernel's
  /// known block size (it lets LLVM fold the lane arithmetic).
  Value tid();
  Value lane() {
    Value t = tid();
    return band(t, i32(31));
  }
  Value warp() { return shr(tid(), 5); }

  /// shfl.sync.bfly over the full warp.
  Value shuffleXor(Value v, int64_t mask);
  /// max / sum over the four lanes of a quad (they hold the same row).
  Value quadMax(Value v) {
    v = fmax(v, shuffleXor(v, 1));
    return fmax(v, shuffleXor(v, 2));
  }
  Value quadSum(Value v) {
    v = fadd(v, shuffleXor(v, 1));
    return fadd(v, shuffleXor(v, 2));
  }

  /// Byte-offset and element-offset pointer arithmetic.
  Value gepBytes(Value ptr, Value offset) {
    return LLVM::GEPOp::create(b, loc, ptr.getType(), b.getI8Type(), ptr,
                               ValueRange{offset});
  }
  Value gepElements(Value ptr, Type elementType, Value offset) {
    return LLVM::GEPOp::create(b, loc, ptr.getType(), elementType, ptr,
                               ValueRange{offset});
  }

  /// The values of a 1-D vector, and back.
  SmallVector<Value> unpack(Value vec);
  Value pack(ArrayRef<Value> values);

  /// Converts two f32 to a packed pair of `elementType` (element 0 in the
  /// low half), as one i32.
  Value packPair(Value lo, Value hi, Type elementType);

  /// ldmatrix.sync.aligned.m8n8.x4(.trans).shared.b16.
  std::array<Value, 4> ldmatrixX4(Value ptr, bool transpose);

  /// D = A B + C, mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16}.f32.
  /// `a` and `bFrag` hold packed 16-bit pairs as i32.
  std::array<Value, 4> mma(Type elementType, ArrayRef<Value> a,
                           ArrayRef<Value> bFrag, ArrayRef<Value> c);

  OpBuilder &b;
  Location loc;
  MLIRContext *ctx;
  Type i32Ty, f32Ty;
};

} // namespace fa4
} // namespace mlir

#endif // FA4_LIB_CONVERSION_FA4TONVVM_EMITTER_H

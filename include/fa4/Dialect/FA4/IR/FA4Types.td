//===- FA4Types.td - fa4 types -----------------------------*- tablegen -*-===//
//
// Types of the block-level program: a swizzled shared-memory tile, a
// warp-distributed accumulator tile and per-row statistics.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_DIALECT_FA4_IR_FA4TYPES_TD
#define FA4_DIALECT_FA4_IR_FA4TYPES_TD

include "fa4/Dialect/FA4/IR/FA4Dialect.td"

def FA4_SmemTileType : FA4_Type<"SmemTile", "smem"> {
  let summary = "a rows x cols tile in shared memory, XOR-swizzled";
  let description = [{
    A CTA-wide tile in shared memory, row-major with 16-byte units swizzled
    so that `ldmatrix` and `cp.async` are free of bank conflicts. Columns
    are grouped in chunks of 64 elements (128-byte rows, unit ^= row % 8)
    or, when cols is not a multiple of 64, 32 elements (64-byte rows, unit ^=
    (row / 2) % 4); each chunk is stored as its own rows x chunk block. This
    is exactly the layout a TMA box with 128B / 64B swizzle writes.

    ```mlir
    !fa4.smem<64x128xbf16>
    ```
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$cols,
                        "::mlir::Type":$elementType);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Columns per swizzle chunk: 64 (128-byte rows) or 32 (64-byte rows).
    int64_t getChunkCols() const;
    /// Size in bytes.
    int64_t getSizeInBytes() const;
  }];
}

def FA4_AccTileType : FA4_Type<"AccTile", "acc"> {
  let summary = "a CTA tile of f32 accumulators distributed over warps";
  let description = [{
    A rows x cols f32 tile held in registers. Warp w owns rows
    [w * rows / warps, (w + 1) * rows / warps); within a warp the tile is a
    grid of m16n8 `mma.sync` C fragments: lane l holds (g, 2q), (g, 2q+1),
    (g+8, 2q), (g+8, 2q+1) of each fragment with g = l / 4, q = l % 4.
    Lowering turns it into one `vector<N x f32>` per thread,
    N = rows * cols / (32 * warps), fragment (mt, nt) at 4 * (mt * cols / 8 +
    nt).

    ```mlir
    !fa4.acc<128x64xf32, warps = 4>
    ```
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$cols,
                        "::mlir::Type":$elementType, "int64_t":$warps);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Rows owned by one warp.
    int64_t getRowsPerWarp() const { return getRows() / getWarps(); }
    /// m16 fragments per warp along the rows.
    int64_t getMTiles() const { return getRowsPerWarp() / 16; }
    /// n8 fragments along the columns.
    int64_t getNTiles() const { return getCols() / 8; }
    /// Accumulator values one thread holds.
    int64_t getValuesPerThread() const {
      return getRows() * getCols() / (32 * getWarps());
    }
  }];
}

def FA4_AFragType : FA4_Type<"AFrag", "afrag"> {
  let summary = "a CTA tile of 16-bit mma.sync A operands in registers";
  let description = [{
    A rows x cols tile of bf16/f16 held in registers as `mma.sync.m16n8k16`
    A fragments: warp w owns rows [w * rows / warps, (w + 1) * rows /
    warps), and per m16 tile mt and k16 slice kk each lane holds four packed
    pairs a0..a3 (rows g and g + 8, columns 2q and 2q + 8 of the slice).
    Lowering makes it one `vector<N x i32>` per thread, fragment (mt, kk)
    at 4 * (mt * cols / 16 + kk). Q lives in this form for the whole key
    loop when the kernel keeps it in registers, and P takes it between the
    two GEMMs.

    ```mlir
    !fa4.afrag<128x128xbf16, warps = 8>
    ```
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$cols,
                        "::mlir::Type":$elementType, "int64_t":$warps);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getRowsPerWarp() const { return getRows() / getWarps(); }
    int64_t getMTiles() const { return getRowsPerWarp() / 16; }
    int64_t getKSlices() const { return getCols() / 16; }
    /// Packed 32-bit registers one thread holds.
    int64_t getRegistersPerThread() const {
      return getMTiles() * getKSlices() * 4;
    }
  }];
}

def FA4_MBarriersType : FA4_Type<"MBarriers", "mbarriers"> {
  let summary = "an array of mbarriers in shared memory";
  let description = [{
    `count` 8-byte `mbarrier` objects, one per pipeline stage. Lowering
    makes it the `!llvm.ptr<3>` of the first one.

    ```mlir
    !fa4.mbarriers<2>
    ```
  }];
  let parameters = (ins "int64_t":$count);
  let assemblyFormat = "`<` $count `>`";
  let genVerifyDecl = 1;
}

def FA4_RowStatsType : FA4_Type<"RowStats", "rows"> {
  let summary = "one f32 per row of an accumulator tile";
  let description = [{
    Row statistics (running max, running sum, rescale factor, LSE) of an
    `!fa4.acc` tile with the same rows and warps. Lane l of warp w holds rows
    w * rows / warps + 16 * mt + l / 4 + 8 * h, at index 2 * mt + h; the four
    lanes of a quad hold the same rows (a running sum is a per-lane partial
    until `fa4.finalize` reduces it across the quad).

    ```mlir
    !fa4.rows<128, warps = 4>
    ```
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$warps);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Values one thread holds: two rows per m16 fragment.
    int64_t getValuesPerThread() const { return getRows() / getWarps() / 8; }
  }];
}

#endif // FA4_DIALECT_FA4_IR_FA4TYPES_TD

//===- FA4Attrs.td - fa4 attributes ------------------------*- tablegen -*-===//
//
// The tile-source kinds of fa4.kv_loop: contiguous rows, paged rows, rows
// of grouped heads (GQA packing), and TMA tensor maps.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_DIALECT_FA4_IR_FA4ATTRS_TD
#define FA4_DIALECT_FA4_IR_FA4ATTRS_TD

include "fa4/Dialect/FA4/IR/FA4Dialect.td"
include "fa4/Dialect/FA4/IR/FA4Interfaces.td"

class FA4_TileSourceAttr<string name, string attrMnemonic>
    : AttrDef<FA4_Dialect, name, [DeclareAttrInterfaceMethods<
          FA4_TileSourceAttrInterface>]> {
  let mnemonic = attrMnemonic;
}

def FA4_ContiguousSourceAttr : FA4_TileSourceAttr<"ContiguousSource",
                                                  "contiguous"> {
  let summary = "rows at a constant stride from one base (cp.async)";
  let description = [{
    Row r of the matrix is at `base + r * row_stride` (elements); rows at or
    past `limit` do not exist and load as zeros. Operands:
    `(base: !llvm.ptr<1>, row_stride: i32, limit: i32)`. The dense layout
    (base = the (batch, head) slice) and the varlen layout (base = the
    sequence's first row, from cu_seqlens) are both this kind.

    ```mlir
    k #fa4.contiguous(%k_base, %k_row_stride, %seqlen_k : !llvm.ptr<1>, i32, i32)
    ```
  }];
}

def FA4_PagedSourceAttr : FA4_TileSourceAttr<"PagedSource", "paged"> {
  let summary = "rows in fixed-size pages named by a page table (cp.async)";
  let description = [{
    Row r of the matrix is row `r % page_size` of page
    `table[r / page_size]`, at `base + page * page_stride + (r % page_size) *
    row_stride` (elements); rows at or past `limit` load as zeros, and a
    page index outside [0, num_pages) is clamped into it, so a bad table
    never makes the kernel read outside the cache. r / page_size is
    `umulhi(r, page_magic) >> page_shift`, the runtime's exact reciprocal of
    page_size for r < 2^31 (no division in the key loop). Operands:
    `(base: !llvm.ptr<1>, row_stride: i32, limit: i32, table: !llvm.ptr<1>,
    page_size: i32, page_magic: i32, page_shift: i32, page_stride: i64,
    num_pages: i32)`, `table` pointing at this sequence's row of the block
    table. Its rows are indirect: the schedule issues their loads after the
    block's scores, under the MMAs in flight.

    ```mlir
    k #fa4.paged(%k_base, %k_row_stride, %seqlen_k, %table, %page_size,
                 %page_magic, %page_shift, %k_page_stride, %num_pages : ...)
    ```
  }];
}

def FA4_GroupedSourceAttr : FA4_TileSourceAttr<"GroupedSource", "grouped"> {
  let summary = "rows of `group` heads interleaved per sequence row (cp.async)";
  let description = [{
    GQA packing: row r of the tile is head `r % group` of sequence row
    `r / group`, at `base + (r / group) * row_stride + (r % group) *
    head_stride` (elements), so the query heads that share a KV head fill one
    M tile; rows at or past `limit` (= seqlen * group) load as zeros.
    Operands: `(base: !llvm.ptr<1>, row_stride: i32, limit: i32, group: i32,
    head_stride: i64)`.

    ```mlir
    q #fa4.grouped(%q_base, %q_row_stride, %rows, %q_group, %q_head_stride
                   : !llvm.ptr<1>, i32, i32, i32, i64)
    ```
  }];
}

def FA4_TmaSourceAttr : FA4_TileSourceAttr<"TmaSource", "tma"> {
  let summary = "rows of a 4-D tensor map (TMA, on an mbarrier)";
  let description = [{
    Row r of (head, batch) of the tensor map `desc` (dims head_dim, seq,
    head, batch); rows past the sequence are zero-filled by the TMA unit.
    Operands: `(desc: !llvm.ptr, head: i32, batch: i32)`.

    ```mlir
    k #fa4.tma(%k_tma, %kv_head, %batch : !llvm.ptr, i32, i32)
    ```
  }];
}

#endif // FA4_DIALECT_FA4_IR_FA4ATTRS_TD

//===- FA4Ops.td - fa4 operations --------------------------*- tablegen -*-===//
//
// The kernel definition op (fa4.attention) and the block-level program ops
// that fa4-tile-attention produces and convert-fa4-to-nvvm consumes.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_DIALECT_FA4_IR_FA4OPS_TD
#define FA4_DIALECT_FA4_IR_FA4OPS_TD

include "fa4/Dialect/FA4/IR/FA4Dialect.td"
include "fa4/Dialect/FA4/IR/FA4Attrs.td"
include "fa4/Dialect/FA4/IR/FA4Enums.td"
include "fa4/Dialect/FA4/IR/FA4Types.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Dialect/LLVMIR/LLVMOpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def FA4_GlobalPtr : LLVM_PointerInAddressSpace<1>;
def FA4_GenericPtr : LLVM_PointerInAddressSpace<0>;
def FA4_AccOrRows : AnyTypeOf<[FA4_AccTileType, FA4_RowStatsType]>;
def FA4_SmemOrAFrag : AnyTypeOf<[FA4_SmemTileType, FA4_AFragType]>;

//===----------------------------------------------------------------------===//
// Kernel definition
//===----------------------------------------------------------------------===//

def FA4_AttentionOp : FA4_Op<"attention", [Symbol]> {
  let summary = "states one attention forward kernel variant";
  let description = [{
    One FlashAttention forward kernel: O = softmax(scale * Q K^T + mask) V,
    with Q `(B, Sq, Hq, D)`, K `(B, Sk, Hkv, D)`, V `(B, Sk, Hkv, Dv)`,
    O `(B, Sq, Hq, Dv)` and optionally LSE `(B, Hq, Sq)` in fp32. Shapes and
    strides are run-time kernel parameters; everything stated here is a
    compile-time choice.

    - `dtype`: bf16 or f16 (accumulation is always f32).
    - `head_dim`, `head_dim_v`: D and Dv.
    - `causal`: mask aligned to the bottom-right corner (k <= q + Sk - Sq).
    - `window`: local (sliding-window) attention, bottom-right aligned:
      query q sees key k iff q + Sk - Sq - left <= k <= q + Sk - Sq + right.
      The sizes `window_left` / `window_right` are run-time parameters
      (-1 is unbounded), so one kernel serves every window.
    - `softcap`: the scaled scores become c * tanh(S / c), with the cap c a
      run-time parameter (`softcap`).
    - `alibi`: ALiBi, -slope * |q + Sk - Sq - k| added to the scaled (and
      capped) scores, the slopes fp32 per head (and batch entry) in memory.
    - `sink`: a learnable per-head logit in the softmax denominator.
    - `switchable` (with two or more of `window`, `softcap` and `alibi`):
      each of those is off for a neutral run-time value (window (-1, -1),
      softcap 0, null `alibi_slopes`), so one kernel serves every
      combination of them (causal is the window (-1, 0)). The runtime falls
      back to it for combinations without a kernel of their own; the cost
      is the modifications' work on every score, switched off or not.
    - `varlen`: sequences of different lengths packed along one token
      dimension, `cu_seqlens_q/k` giving their offsets (FlashAttention-2's
      varlen layout).
    - `paged_kv`: K and V in fixed-size pages named by a block table.
    - `kv_cache`: FlashAttention-2's KV-cache layout (`flash_attn_with_kvcache`):
      dense Q `(B, Sq, Hq, D)`; K/V rows from a cache, contiguous
      `(B_cache, S_cache, Hkv, D)` (entry `cache_batch_idx[b]`, from row
      `cache_leftpad[b]`) or paged (`paged_kv`), with per-entry lengths
      `cache_seqlens[b] + seqlen_new - leftpad`.
    - `split_kv`: the key blocks of an m-block are divided among `num_splits`
      CTAs (a run-time parameter); with more than one, each writes fp32
      partial O and LSE to a workspace, and the module's second kernel
      (`<name>_combine`) merges them. Built with `kv_cache`.
    - `dropout`: the probabilities of each key block pass through
      `fa4.dropout` (Philox 4x32-10 keyed by a 64-bit seed, a counter
      offset and (batch, head, row, column)) after the online softmax and
      before P V; p, the seed and the offset are run-time parameters. Not
      with `kv_cache`; only on the cp.async load path.
    - `return_probs` (with `dropout`; dense, or varlen without
      `paged_kv`): FlashAttention-2's testing aid S_dmask. Each key block's
      probabilities as computed (exp of the scaled score minus the running
      max, before normalization), negated where dropout drops them, are
      stored to a `(B, Hq, rows, cols)` tensor in `dtype` (varlen: batch
      entry b is sequence b, rows and columns count from its first query
      and key).
    - `block_sparse`: the key blocks each m-block visits come from
      per-(batch, head, q-block) lists, FlashAttention-4's
      `mask_block_cnt/idx` (blocks that need the element mask) and
      `full_block_cnt/idx` (blocks that need none), in global memory; the
      sparse block sizes are run-time parameters that the kernel's tile
      divides. The mask-list blocks apply the kernel's masks (causal,
      window, the key limit), the full-list ones only the key limit. A
      q-block with no listed block writes O = 0 and LSE = -inf. cp.async
      only; not with kv_cache or split_kv.

    Every kernel takes any GQA/MQA ratio (kv head = q head / ratio) and
    writes the log-sum-exp when given a non-null `lse` pointer: neither is
    a compile-time choice.
    - `load_path`: `cp_async` (all warps load and compute) or `tma`
      (a producer warp group feeds MMA warps through mbarriers).
    - `stages`: K/V pipeline depth.
    - `tile(m, n) warps(w) q_in_registers(b)`: pins the tile
      configuration; without it `fa4-tile-attention` chooses one from its
      target description.
    - `target`: the GPU; the shared-memory budget is checked against it.

    The verifier rejects invalid combinations, and every variant whose
    lowering is not built yet, by name: nothing compiles silently into a
    wrong kernel.

    ```mlir
    fa4.attention @fwd_bf16_hd128_causal dtype(bf16) head_dim(128)
        head_dim_v(128) causal load_path(cp_async) stages(1)
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttr:$element_type,
    I64Attr:$head_dim,
    I64Attr:$head_dim_v,
    UnitAttr:$causal,
    UnitAttr:$window,
    UnitAttr:$softcap,
    UnitAttr:$alibi,
    UnitAttr:$sink,
    UnitAttr:$switchable,
    UnitAttr:$varlen,
    UnitAttr:$paged_kv,
    UnitAttr:$kv_cache,
    UnitAttr:$split_kv,
    UnitAttr:$dropout,
    UnitAttr:$return_probs,
    UnitAttr:$block_sparse,
    FA4_LoadPath:$load_path,
    I64Attr:$num_stages,
    OptionalAttr<I64Attr>:$tile_m,
    OptionalAttr<I64Attr>:$tile_n,
    OptionalAttr<I64Attr>:$num_warps,
    OptionalAttr<BoolAttr>:$q_in_registers,
    OptionalAttr<FA4_Chip>:$target
  );
  let assemblyFormat = [{
    $sym_name
    `dtype` `(` $element_type `)`
    `head_dim` `(` $head_dim `)`
    `head_dim_v` `(` $head_dim_v `)`
    (`causal` $causal^)?
    (`window` $window^)?
    (`softcap` $softcap^)?
    (`alibi` $alibi^)?
    (`sink` $sink^)?
    (`switchable` $switchable^)?
    (`varlen` $varlen^)?
    (`paged_kv` $paged_kv^)?
    (`kv_cache` $kv_cache^)?
    (`split_kv` $split_kv^)?
    (`dropout` $dropout^)?
    (`return_probs` $return_probs^)?
    (`block_sparse` $block_sparse^)?
    `load_path` `(` $load_path `)`
    `stages` `(` $num_stages `)`
    (`tile` `(` $tile_m^ `,` $tile_n `)`)?
    (`warps` `(` $num_warps^ `)`)?
    (`q_in_registers` `(` $q_in_registers^ `)`)?
    (`target` `(` $target^ `)`)?
    attr-dict
  }];
  let hasVerifier = 1;
}

def FA4_KVAppendOp : FA4_Op<"kv_append", [Symbol]> {
  let summary = "states the KV-cache append (and rotary) kernel";
  let description = [{
    The kernel `flash_attn_with_kvcache` launches before attention when it
    is given new keys and values or rotary tables. For every batch entry b,
    new token t < seqlen_new and KV head h, it writes row
    p = cache_seqlens[b] + t of the cache (contiguous: entry
    cache_batch_idx[b]; `paged_kv`: the row's page in b's block-table row),
    skipping rows at or past the cache's capacity:

      k_cache[p] = rotary(k_new[b, t, h], p),  v_cache[p] = v_new[b, t, h]

    and with rotary tables it writes the rotated queries to a contiguous
    `q_rot (B, Sq, Hq, D)`, query s at position cache_seqlens[b] + s
    (`q_positions` = 1: causal or local) or cache_seqlens[b] (0).
    rotary(x, p) rotates the first `rotary_dim` columns by the angles of row
    p of `cos`/`sin` (`(seqlen_ro, rotary_dim / 2)`), pairs (i, i +
    rotary_dim / 2) or, interleaved, (2i, 2i + 1):

      y1 = x1 cos - x2 sin,  y2 = x1 sin + x2 cos

    in f32, rounded once; the other columns are copied. Head dims, the
    rotary dim and its pairing are run-time parameters: one kernel per
    dtype and cache layout.

    ```mlir
    fa4.kv_append @fa4_kv_append_bf16 dtype(bf16)
    fa4.kv_append @fa4_kv_append_paged_bf16 dtype(bf16) paged_kv
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, TypeAttr:$element_type,
                       UnitAttr:$paged_kv, OptionalAttr<FA4_Chip>:$target);
  let assemblyFormat = [{
    $sym_name `dtype` `(` $element_type `)` (`paged_kv` $paged_kv^)?
    (`target` `(` $target^ `)`)? attr-dict
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Scoping: variant paths, static choices, guards
//===----------------------------------------------------------------------===//

def FA4_ScopeOp : FA4_Op<"scope", [SingleBlock, NoTerminator,
                                   RecursiveMemoryEffects]> {
  let summary = "a variant path that owns its values and shared memory";
  let description = [{
    A region that holds one variant path of a kernel (for example the dense
    path, or the block-sparse path). Every `fa4.smem_buffer` belongs to its
    nearest enclosing scope and may be used only inside it; values defined
    inside cannot leave it. `fa4-scope-attention` gives every buffer of every
    scope its own byte range, so two paths compiled into one kernel never
    share a working value or a staging buffer by accident.

    ```mlir
    fa4.scope "dense" {
      %o_stage = fa4.smem_buffer "O_stage" : !fa4.smem<128x128xbf16>
    }
    ```
  }];
  let arguments = (ins StrAttr:$sym_name);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasVerifier = 1;
}

def FA4_VariantOp : FA4_Op<"variant", [NoTerminator, RecursiveMemoryEffects]> {
  let summary = "a compile-time choice between two variant paths";
  let description = [{
    Chooses statically, by a feature of the enclosing kernel, between the
    `then` path (feature on) and the optional `else` path. The condition is
    a feature name, never an SSA value, so it cannot depend on run-time
    data. `fa4-scope-attention` resolves every `fa4.variant` before it turns
    any `fa4.guard` into dynamic control flow.

    ```mlir
    fa4.variant "block_sparse" {
      fa4.scope "block_sparse" { ... }
    } else {
      fa4.scope "dense" { ... }
    }
    ```
  }];
  let arguments = (ins StrAttr:$feature);
  let regions = (region SizedRegion<1>:$thenRegion,
                        MaxSizedRegion<1>:$elseRegion);
  // The else region is parsed by a custom directive, and the attributes
  // come before the regions: see parseElseRegion in FA4Ops.cpp.
  let assemblyFormat = [{
    $feature attr-dict-with-keyword $thenRegion
    custom<ElseRegion>(ref($thenRegion), $elseRegion)
  }];
}

def FA4_GuardOp : FA4_Op<"guard", [
    SingleBlockImplicitTerminator<"::mlir::fa4::YieldOp">,
    RecursiveMemoryEffects,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "a run-time guard whose skipped path has defined results";
  let description = [{
    Runs its body when `condition` holds; otherwise its results are the
    `else` values. Each result therefore has a defined value on both paths:
    the empty-range guard around a main loop (`n_block_max <= n_block_min`)
    yields O = 0, max = -inf and sum = 0, and whatever follows sees exactly
    those. The `else` values are defined before the guard, never inside it.
    `fa4-scope-attention` lowers it to an `scf.if` that yields every result.

    ```mlir
    %o, %m, %l = fa4.guard %nonempty else(%o0, %m0, %l0 : !acc, !rows, !rows) {
      ...
      fa4.yield %o2, %m2, %l2 : !acc, !rows, !rows
    }
    ```
  }];
  let arguments = (ins I1:$condition, Variadic<AnyType>:$elseValues);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $condition (`else` `(` $elseValues^ `:` qualified(type($elseValues)) `)`)?
    attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
}

def FA4_YieldOp : FA4_Op<"yield", [Pure, Terminator, ReturnLike,
                                   ParentOneOf<["GuardOp", "KVLoopOp"]>]> {
  let summary = "yields the results of a fa4.guard or fa4.kv_loop body";
  let arguments = (ins Variadic<AnyType>:$values);
  let builders = [OpBuilder<(ins), [{ (void)$_state; }]>];
  let assemblyFormat = "attr-dict ($values^ `:` qualified(type($values)))?";
}

//===----------------------------------------------------------------------===//
// The key loop: which blocks are visited, and the math of one block
//===----------------------------------------------------------------------===//

def FA4_KVRangeOp : FA4_Op<"kv_range", [Pure, AttrSizedOperandSegments]> {
  let summary = "the key blocks an m-block visits, and which need a mask";
  let description = [{
    For the m-block of `tile_m` query rows starting at `q_row`, with
    `seqlen_q` queries and `seqlen_k` keys in blocks of `tile_n`, computes
    the visited key blocks [begin, end) and the blocks that need no element
    mask, [full_begin, full_end); the blocks in [begin, full_begin) and
    [full_end, end) are masked. With N = tile_n, Sk and Sq the lengths,
    D = Sk - Sq the diagonal, and R, L the window sizes (causal: R = 0, no
    L; `local`: the `window` operands, both >= 0, a size >= the sequence
    meaning unbounded):

      end        = ceil(Sk / N); right edge: min(end, ceil((q_row + tile_m + D + R) / N))
      begin      = 0;            left edge:  max(0, floor((q_row + D - L) / N))
      full_end   = Sk % N == 0 ? ceil(Sk / N) : ceil(Sk / N) - 1
                   right edge: min(full_end, max(floor((q_row + D + R + 1) / N), 0))
      full_begin = begin;        left edge:  ceil((min(q_row + tile_m, Sq) - 1 + D - L) / N)
      then full_begin is clamped into [begin, end], full_end into
      [full_begin, end]

    The masks are bottom-right aligned: key k is visible to query q iff
    q + D - L <= k <= q + D + R. Block n needs the mask on the right iff
    its last key lies past the m-block's first row's last key, and on the
    left iff its first key lies before the last existing row's first key
    (rows at or past Sq store nothing). An empty range (end <= begin:
    causal with Sq > Sk, Sk = 0, a window past the keys) has defined
    results that the loop skips. With constant operands
    the op folds; a kind without a left edge folds begin and full_begin to
    0.

    With `split(%i of %n)` (split-KV, 0 <= i < n) the range is the i-th of n
    near-equal parts of the blocks above, in blocks:

      per        = ceil((end - begin) / n)
      begin'     = min(begin + i * per, end),  end' = min(begin' + per, end)
      full_begin' = clamp(full_begin, begin', end')
      full_end'   = clamp(full_end, full_begin', end')

    A split past the blocks is empty (end' == begin'): its loop does not run
    and its partial output is O = 0, LSE = -inf.

    ```mlir
    %begin, %full_begin, %full_end, %end = fa4.kv_range causal
        rows(%q_row, 128) seqlen(%seqlen_q, %seqlen_k) block(64)
    %b, %fb, %fe, %e = fa4.kv_range local window(%left, %right)
        rows(%q_row, 128) seqlen(%seqlen_q, %seqlen_k) block(64)
    ```
  }];
  let arguments = (ins FA4_MaskKind:$mask, Optional<I32>:$window_left,
                       Optional<I32>:$window_right, I32:$q_row,
                       I32:$seqlen_q, I32:$seqlen_k, I64Attr:$tile_m,
                       I64Attr:$tile_n, Optional<I32>:$split_index,
                       Optional<I32>:$num_splits);
  let results = (outs I32:$begin, I32:$full_begin, I32:$full_end, I32:$end);
  let assemblyFormat = [{
    $mask (`window` `(` $window_left^ `,` $window_right `)`)?
    `rows` `(` $q_row `,` $tile_m `)` `seqlen` `(` $seqlen_q `,`
    $seqlen_k `)` `block` `(` $tile_n `)`
    (`split` `(` $split_index^ `of` $num_splits `)`)? attr-dict
  }];
  let builders = [
    OpBuilder<(ins "MaskKind":$mask, "Value":$qRow, "Value":$seqlenQ,
                   "Value":$seqlenK, "int64_t":$tileM, "int64_t":$tileN), [{
      build($_builder, $_state, mask, Value(), Value(), qRow, seqlenQ,
            seqlenK, tileM, tileN, Value(), Value());
    }]>
  ];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// Whether blocks below full_begin can need the mask (a left window
    /// edge): only `local`; for `none` and `causal` full_begin == begin.
    bool hasLeftMaskedBlocks() { return getMask() == MaskKind::Local; }
  }];
}

def FA4_VarlenSeqlensOp : FA4_Op<"varlen_seqlens", [
    MemoryEffects<[MemRead<DefaultResource>]>]> {
  let summary = "a varlen batch entry's sequence offsets and lengths";
  let description = [{
    Reads the sequence of batch entry `batch` from FlashAttention-2's varlen
    layout: queries [q_start, q_start + seqlen_q) of the packed Q, keys
    [k_start, k_start + seqlen_k) of the packed K/V, where

      q_start  = clamp(cu_seqlens_q[b], 0, total_q)
      seqlen_q = clamp(cu_seqlens_q[b + 1], q_start, total_q) - q_start
      k_start  = clamp(cu_seqlens_k[b], 0, total_k)
      seqlen_k = clamp(cu_seqlens_k[b + 1], k_start, total_k) - k_start
      seqlen_k = seqused_k ? clamp(seqused_k[b], 0, total_k - k_start) : seqlen_k

    The clamps mean that a malformed cu_seqlens (decreasing, or past the
    tensors' ends, values only the device holds) can shorten or empty a
    sequence but never make the kernel touch memory outside Q, K, V, O or
    the LSE. `seqused_k` may be null.

    ```mlir
    %q_start, %seqlen_q, %k_start, %seqlen_k = fa4.varlen_seqlens %batch
        cu_seqlens(%cu_q, %cu_k) seqused_k(%used) totals(%total_q, %total_k)
    ```
  }];
  let arguments = (ins I32:$batch, FA4_GlobalPtr:$cu_seqlens_q,
                       FA4_GlobalPtr:$cu_seqlens_k, FA4_GlobalPtr:$seqused_k,
                       I32:$total_q, I32:$total_k);
  let results = (outs I32:$q_start, I32:$seqlen_q, I32:$k_start,
                      I32:$seqlen_k);
  let assemblyFormat = [{
    $batch `cu_seqlens` `(` $cu_seqlens_q `,` $cu_seqlens_k `)` `seqused_k`
    `(` $seqused_k `)` `totals` `(` $total_q `,` $total_k `)` attr-dict
  }];
}

def FA4_CacheSeqlensOp : FA4_Op<"cache_seqlens", [
    MemoryEffects<[MemRead<DefaultResource>]>]> {
  let summary = "a KV-cache batch entry's cache row and key range";
  let description = [{
    Reads batch entry `batch`'s keys from FlashAttention-2's KV-cache
    layout. The cache holds `entries` entries of `capacity` rows each
    (contiguous: B_cache x S_cache; paged: one entry of max_pages *
    page_size rows per batch entry); every pointer may be null:

      entry    = batch_idx ? clamp(batch_idx[b], 0, entries - 1) : b
      k_start  = leftpad ? clamp(leftpad[b], 0, capacity) : 0
      length   = (seqlens ? seqlens[b] : default_seqlen) + seqlen_new
      seqlen_k = clamp(length, k_start, capacity) - k_start

    Keys are rows [k_start, k_start + seqlen_k) of the entry. `seqlen_new`
    counts the tokens the append kernel wrote past `seqlens[b]`. The clamps
    mean that a bad index or length, values only the device holds, shorten
    the range but never move a load outside the cache.

    ```mlir
    %entry, %k_start, %seqlen_k = fa4.cache_seqlens %batch
        seqlens(%cache_seqlens, %seqlen_k) new(%seqlen_new)
        batch_idx(%cache_batch_idx) leftpad(%cache_leftpad)
        entries(%cache_entries) capacity(%capacity)
    ```
  }];
  let arguments = (ins I32:$batch, FA4_GlobalPtr:$seqlens,
                       I32:$default_seqlen, I32:$seqlen_new,
                       FA4_GlobalPtr:$batch_idx, FA4_GlobalPtr:$leftpad,
                       I32:$entries, I32:$capacity);
  let results = (outs I32:$entry, I32:$k_start, I32:$seqlen_k);
  let assemblyFormat = [{
    $batch `seqlens` `(` $seqlens `,` $default_seqlen `)` `new` `(` $seqlen_new `)`
    `batch_idx` `(` $batch_idx `)` `leftpad` `(` $leftpad `)`
    `entries` `(` $entries `)` `capacity` `(` $capacity `)` attr-dict
  }];
}

def FA4_KVLoopOp : FA4_Op<"kv_loop", [
    AttrSizedOperandSegments, SingleBlock, RecursiveMemoryEffects,
    DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "the online-softmax loop over key blocks, its body once";
  let description = [{
    Runs the body once per key block n of [begin, end), carrying the
    running state (`init`: O, the row max and the row sum); the operands
    must satisfy begin <= full_begin <= full_end <= end when begin < end
    (`fa4.kv_range`'s results do). The order is the schedule's: from the
    last block to the first, except that a window's masked blocks may come
    before its unmasked ones (the cp.async schedule visits both edges
    first). With `descending` the order is strictly from end - 1 down to
    begin, FlashAttention-2's: a body that records the running max of each
    block (S_dmask) needs it, and the cp.async schedule then visits a
    window's blocks in one masked loop (the TMA schedule's three loops are
    in that order already). The body's block arguments are the block index n, Q (the
    shared-memory tile `q_tile`, or its A fragments in registers when the
    argument is an `!fa4.afrag`), the block's K and V tiles, and the state;
    it yields the next state, and the loop's results are the last one. The
    body states the math of one block, written once; blocks in
    [full_begin, full_end) need no element mask, and the schedule runs them
    in a copy of the body without its `fa4.mask`.

    Where the tiles come from is stated, not built: Q's rows [q_row,
    q_row + q_tile rows) and K's and V's rows [n * N, (n + 1) * N) come from
    their sources, each a tile-source kind (`#fa4.contiguous`, `#fa4.paged`,
    `#fa4.tma`) with its operands. `stages` is the K/V pipeline depth.
    `fa4-schedule-kv-loop` turns the op into the cp.async or the
    warp-specialized TMA schedule (shared-memory stages, loads, waits,
    prefetch of the next block, an empty-range guard).

    Iteration kinds. Without `lists` the visited blocks are the range
    [begin, end). With `lists(%mask[%mask_count], %full[%full_count])
    per(%r)` (block-sparse; cp.async only) they come from two int32 lists
    in global memory instead: the `mask_count` entries of `mask`, then the
    `full_count` entries of `full`, in list order. Entry e is a sparse key
    block of `r` tiles and expands to blocks e*r + r - 1 down to e*r; an
    entry past the keys (e >= ceil(end / r), negative ones read unsigned)
    is clamped to ceil(end / r), whose blocks hold no key and are masked
    whole. Blocks of the mask list run the masked body. Blocks of the full
    list run the unmasked body inside [full_begin, full_end) and, outside
    it (the ragged last block), the masked body with only its key limit:
    `fa4.mask`'s diagonals are dropped there, so a full block ignores the
    causal or window edges and only the keys past seqlen_k are masked. The
    prefetch follows the lists across their boundary.

    ```mlir
    %o, %m, %l = fa4.kv_loop [%begin, %full_begin, %full_end, %end] stages(1)
        q %sq[%q_row] : !fa4.smem<128x128xbf16>
          #fa4.contiguous(%q_base, %q_stride, %seqlen_q : !llvm.ptr<1>, i32, i32)
        k #fa4.contiguous(%k_base, %k_stride, %seqlen_k : !llvm.ptr<1>, i32, i32)
        v #fa4.contiguous(%v_base, %v_stride, %seqlen_k : !llvm.ptr<1>, i32, i32)
        init(%o0, %m0, %l0) : !acc, !rows, !rows {
    ^bb0(%n: i32, %q: !fa4.afrag<128x128xbf16, warps = 8>, %k: !ktile,
         %v: !vtile, %o: !acc, %m: !rows, %l: !rows):
      ...
      fa4.yield %o2, %m2, %l2 : !acc, !rows, !rows
    }
    ```
  }];
  let arguments = (ins I32:$begin, I32:$full_begin, I32:$full_end, I32:$end,
                       I64Attr:$stages, FA4_SmemTileType:$q_tile, I32:$q_row,
                       FA4_TileSourceAttrInterface:$q_source,
                       Variadic<AnyType>:$q_operands,
                       FA4_TileSourceAttrInterface:$k_source,
                       Variadic<AnyType>:$k_operands,
                       FA4_TileSourceAttrInterface:$v_source,
                       Variadic<AnyType>:$v_operands,
                       Optional<FA4_GlobalPtr>:$mask_list,
                       Optional<I32>:$mask_count,
                       Optional<FA4_GlobalPtr>:$full_list,
                       Optional<I32>:$full_count,
                       Optional<I32>:$list_ratio,
                       UnitAttr:$descending,
                       Variadic<AnyType>:$init);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `[` $begin `,` $full_begin `,` $full_end `,` $end `]`
    (`lists` `(` $mask_list^ `[` $mask_count `]` `,` $full_list `[`
      $full_count `]` `)` `per` `(` $list_ratio `)`)?
    `stages` `(` $stages `)` (`descending` $descending^)?
    `q` $q_tile `[` $q_row `]` `:` qualified(type($q_tile))
      $q_source `(` $q_operands `:` type($q_operands) `)`
    `k` $k_source `(` $k_operands `:` type($k_operands) `)`
    `v` $v_source `(` $v_operands `:` type($v_operands) `)`
    `init` `(` $init `)` `:` type($init) attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The body's block arguments.
    Block &getBodyBlock() { return getBody().front(); }
    Value getBlockIndexArg() { return getBodyBlock().getArgument(0); }
    Value getQArg() { return getBodyBlock().getArgument(1); }
    Value getKArg() { return getBodyBlock().getArgument(2); }
    Value getVArg() { return getBodyBlock().getArgument(3); }
    ValueRange getStateArgs() {
      return getBodyBlock().getArguments().drop_front(4);
    }
    /// Whether the tiles arrive by TMA (the warp-specialized schedule).
    bool isTma() { return getKSource().isTma(); }
    /// Whether the visited blocks come from block lists (block-sparse).
    bool hasLists() { return static_cast<bool>(getMaskList()); }
  }];
}

//===----------------------------------------------------------------------===//
// Shared memory and global-to-shared loads
//===----------------------------------------------------------------------===//

def FA4_SmemBufferOp : FA4_Op<"smem_buffer", [
    MemoryEffects<[MemAlloc<DefaultResource>]>]> {
  let summary = "a named shared-memory tile owned by the enclosing scope";
  let description = [{
    Declares a swizzled tile in the CTA's dynamic shared memory.
    `fa4-scope-attention` assigns `offset` (bytes, 1024-aligned, for TMA's
    128B swizzle) so that no two buffers overlap.

    ```mlir
    %k = fa4.smem_buffer "K" : !fa4.smem<64x128xbf16>
    %k = fa4.smem_buffer "K" at 32768 : !fa4.smem<64x128xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$sym_name, OptionalAttr<I64Attr>:$offset);
  let results = (outs FA4_SmemTileType:$buffer);
  let assemblyFormat = "$sym_name (`at` $offset^)? attr-dict `:` qualified(type($buffer))";
  let hasVerifier = 1;
}

def FA4_LoadTileOp : FA4_Op<"load_tile", [AttrSizedOperandSegments]> {
  let summary = "issues cp.async copies of a tile of rows into shared memory";
  let description = [{
    All threads of the CTA copy rows [row, row + dest.rows) of a row-major
    matrix at `base` (element row stride `stride`, columns contiguous) into
    `dest`, in 16-byte `cp.async` units. Rows at or past `limit` are
    zero-filled and their source is never read. The copies complete at the
    next `fa4.wait_loads` that covers them. With `group(%g, %head_stride)`
    (GQA packing, `#fa4.grouped`) row r is at `base + (r / g) * stride +
    (r % g) * head_stride` instead.

    ```mlir
    fa4.load_tile %k[%row] limit %seqlen_k stride %k_stride into %sk
        : !fa4.smem<64x128xbf16>
    ```
  }];
  let arguments = (ins Arg<FA4_GlobalPtr, "", [MemRead]>:$base, I32:$row,
                       I32:$limit, I32:$stride,
                       Arg<FA4_SmemTileType, "", [MemWrite]>:$dest,
                       Optional<I32>:$group, Optional<I64>:$head_stride);
  let assemblyFormat = [{
    $base `[` $row `]` `limit` $limit `stride` $stride
    (`group` `(` $group^ `,` $head_stride `)`)? `into` $dest attr-dict
    `:` qualified(type($dest))
  }];
  let builders = [
    OpBuilder<(ins "Value":$base, "Value":$row, "Value":$limit,
                   "Value":$stride, "Value":$dest), [{
      build($_builder, $_state, base, row, limit, stride, dest, Value(),
            Value());
    }]>
  ];
  let hasVerifier = 1;
}

def FA4_LoadPagedTileOp : FA4_Op<"load_paged_tile"> {
  let summary = "issues cp.async copies of a tile of paged rows";
  let description = [{
    Like `fa4.load_tile`, for rows stored in pages: row r of the matrix is
    row `r % page_size` of page `table[r / page_size]` (int32), at element
    `base + page * page_stride + (r % page_size) * stride`, where
    r / page_size = umulhi(r, page_magic) >> page_shift (the runtime
    computes the pair; exact for r < 2^31). Rows at or past `limit` are
    zero-filled, their page never looked up; a page index outside [0,
    num_pages) is clamped into it (the cache is never read out of bounds; a
    bad table is the caller's error, which the runtime's checking mode
    reports).

    ```mlir
    fa4.load_paged_tile %k[%row] limit %seqlen_k stride %k_stride
        pages(%table, %page_size, %magic, %shift, %k_page_stride, %num_pages)
        into %sk : !fa4.smem<64x128xbf16>
    ```
  }];
  let arguments = (ins Arg<FA4_GlobalPtr, "", [MemRead]>:$base, I32:$row,
                       I32:$limit, I32:$stride,
                       Arg<FA4_GlobalPtr, "", [MemRead]>:$table,
                       I32:$page_size, I32:$page_magic, I32:$page_shift,
                       I64:$page_stride, I32:$num_pages,
                       Arg<FA4_SmemTileType, "", [MemWrite]>:$dest);
  let assemblyFormat = [{
    $base `[` $row `]` `limit` $limit `stride` $stride `pages` `(` $table `,`
    $page_size `,` $page_magic `,` $page_shift `,` $page_stride `,`
    $num_pages `)` `into` $dest attr-dict `:` qualified(type($dest))
  }];
}

def FA4_CommitLoadsOp : FA4_Op<"commit_loads"> {
  let summary = "closes the group of loads issued so far";
  let assemblyFormat = "attr-dict";
}

def FA4_WaitLoadsOp : FA4_Op<"wait_loads"> {
  let summary = "waits for load groups, then synchronizes the CTA";
  let description = [{
    Waits until at most `pending` committed load groups are still in flight,
    then runs a CTA barrier so that every thread sees every completed tile
    and no thread still reads a buffer that a later load overwrites.
  }];
  let arguments = (ins ConfinedAttr<I32Attr, [IntNonNegative]>:$pending);
  let assemblyFormat = "attr-dict";
}

//===----------------------------------------------------------------------===//
// TMA and mbarriers (the warp-specialized load path)
//===----------------------------------------------------------------------===//

def FA4_WarpSpecializeOp : FA4_Op<"warp_specialize", [NoTerminator,
                                                       RecursiveMemoryEffects]> {
  let summary = "splits the CTA into a producer warp group and MMA warps";
  let description = [{
    The CTA's warps 0 .. consumer_warps - 1 run the `consumers` region; the
    warp group after them is the producer: lane 0 of its first warp runs the
    `producer` region (it issues the TMA loads), its other warps idle. On
    targets with `setmaxnreg` the producer group gives up registers
    (`producer_registers`) and the MMA warps take them
    (`consumer_registers`); a whole group, because setmaxnreg is collective
    over warp groups. The two roles share the enclosing scope's shared
    memory and barriers, and each region owns its values: nothing defined in
    one is visible in the other.

    ```mlir
    fa4.warp_specialize consumer_warps(8) registers(40, 232) producer {
      ...   // one thread: expect_tx + tma_load per stage
    } consumers {
      ...   // 8 warps: wait full, compute, arrive empty
    }
    ```
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntPositive]>:$consumer_warps,
                       OptionalAttr<I64Attr>:$producer_registers,
                       OptionalAttr<I64Attr>:$consumer_registers);
  let regions = (region SizedRegion<1>:$producer, SizedRegion<1>:$consumers);
  let assemblyFormat = [{
    `consumer_warps` `(` $consumer_warps `)`
    (`registers` `(` $producer_registers^ `,` $consumer_registers `)`)?
    attr-dict-with-keyword `producer` $producer
    custom<ConsumersRegion>(ref($producer), $consumers)
  }];
  let hasVerifier = 1;
}

def FA4_SmemBarriersOp : FA4_Op<"smem_barriers", [
    MemoryEffects<[MemAlloc<DefaultResource>]>]> {
  let summary = "a named array of mbarriers owned by the enclosing scope";
  let description = [{
    `fa4-scope-attention` places it in shared memory (`offset`, 8-byte
    aligned) after the tiles.

    ```mlir
    %full = fa4.smem_barriers "full" : !fa4.mbarriers<2>
    ```
  }];
  let arguments = (ins StrAttr:$sym_name, OptionalAttr<I64Attr>:$offset);
  let results = (outs FA4_MBarriersType:$barriers);
  let assemblyFormat = [{
    $sym_name (`at` $offset^)? attr-dict `:` qualified(type($barriers))
  }];
  let hasVerifier = 1;
}

def FA4_BarrierInitOp : FA4_Op<"barrier_init"> {
  let summary = "initializes mbarriers, then synchronizes the CTA";
  let description = [{
    Thread 0 initializes each barrier of `barriers` to expect `arrivals`
    arrivals per phase, fences the initialization, and the whole CTA
    synchronizes so no thread uses a barrier before it exists.
  }];
  let arguments = (ins FA4_MBarriersType:$barriers,
                       // mbarrier.init takes a count in [1, 2^20 - 1].
                       ConfinedAttr<I64Attr, [IntPositive,
                                              IntMaxValue<1048575>]>:$arrivals);
  let assemblyFormat = [{
    $barriers `arrivals` `(` $arrivals `)` attr-dict `:`
    qualified(type($barriers))
  }];
}

def FA4_BarrierArriveTxOp : FA4_Op<"barrier_arrive_tx"> {
  let summary = "arrives on a barrier and expects bytes of TMA traffic";
  let arguments = (ins FA4_MBarriersType:$barriers, I32:$index,
                       // mbarrier.expect_tx takes a count in [1, 2^20 - 1].
                       ConfinedAttr<I64Attr, [IntPositive,
                                              IntMaxValue<1048575>]>:$bytes);
  let assemblyFormat = [{
    $barriers `[` $index `]` `bytes` `(` $bytes `)` attr-dict `:`
    qualified(type($barriers))
  }];
}

def FA4_BarrierArriveOp : FA4_Op<"barrier_arrive"> {
  let summary = "every calling thread arrives on a barrier";
  let arguments = (ins FA4_MBarriersType:$barriers, I32:$index);
  let assemblyFormat = [{
    $barriers `[` $index `]` attr-dict `:` qualified(type($barriers))
  }];
}

def FA4_BarrierWaitOp : FA4_Op<"barrier_wait"> {
  let summary = "waits until a barrier completes the phase of a parity";
  let description = [{
    Spins on `mbarrier.try_wait.parity` until the phase with parity `phase`
    (0 or 1) of barrier `index` has completed. Stage s of a ring is in its
    round r = i / stages at iteration i: consumers wait for parity r % 2 on
    `full[s]`, the producer for parity (r - 1) % 2 on `empty[s]`.
  }];
  let arguments = (ins FA4_MBarriersType:$barriers, I32:$index, I32:$phase);
  let assemblyFormat = [{
    $barriers `[` $index `]` `phase` $phase attr-dict `:`
    qualified(type($barriers))
  }];
}

def FA4_TmaLoadOp : FA4_Op<"tma_load"> {
  let summary = "loads a tile with TMA, completing on an mbarrier";
  let description = [{
    Issues `cp.async.bulk.tensor` (the CTA-only `shared::cta` form, which
    needs no stack frame on sm_120) for each column chunk of `dest`, from the
    4-D tensor map `desc` (dims head_dim, seq, head, batch) at rows
    [row, row + dest.rows) of (`head`, `batch`); rows past the tensor end are
    zero-filled by the TMA unit. Completion is signalled on barrier `index`
    of `barriers` through complete_tx bytes.
  }];
  let arguments = (ins FA4_GenericPtr:$desc, I32:$row, I32:$head, I32:$batch,
                       Arg<FA4_SmemTileType, "", [MemWrite]>:$dest,
                       FA4_MBarriersType:$barriers, I32:$index);
  let assemblyFormat = [{
    $desc `[` $row `,` $head `,` $batch `]` `into` $dest `,` $barriers `[`
    $index `]` attr-dict `:` qualified(type($dest)) `,`
    qualified(type($barriers))
  }];
}

//===----------------------------------------------------------------------===//
// Register tiles
//===----------------------------------------------------------------------===//

def FA4_SplatOp : FA4_Op<"splat", [Pure]> {
  let summary = "an accumulator tile or row statistic with every value equal";
  let arguments = (ins F32:$value);
  let results = (outs FA4_AccOrRows:$result);
  let assemblyFormat = "$value attr-dict `:` qualified(type($result))";
}

def FA4_LoadAOp : FA4_Op<"load_a", [
    MemoryEffects<[MemRead<DefaultResource>]>]> {
  let summary = "loads a tile's mma A fragments from shared memory";
  let description = [{
    Each warp reads its rows of `tile` with `ldmatrix.x4` (lane l points at
    row l % 16, column 8 * (l / 16) of each 16 x 16 block) into registers.

    ```mlir
    %qa = fa4.load_a %sq : !fa4.smem<128x128xbf16>
        -> !fa4.afrag<128x128xbf16, warps = 8>
    ```
  }];
  let arguments = (ins FA4_SmemTileType:$tile);
  let results = (outs FA4_AFragType:$result);
  let assemblyFormat = [{
    $tile attr-dict `:` qualified(type($tile)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def FA4_PackAOp : FA4_Op<"pack_a", [Pure]> {
  let summary = "converts f32 accumulators to 16-bit A fragments in place";
  let description = [{
    Rounds each value to `elementType` and repacks: the m16n8 C fragments of
    n-tiles 2j and 2j + 1 are, lane for lane, the m16k16 A fragment of
    k-slice j, so no data moves between lanes. This is how P goes from the
    softmax to the P V product without leaving registers.

    ```mlir
    %pa = fa4.pack_a %p : !fa4.acc<128x64xf32, warps = 8>
        -> !fa4.afrag<128x64xbf16, warps = 8>
    ```
  }];
  let arguments = (ins FA4_AccTileType:$acc);
  let results = (outs FA4_AFragType:$result);
  let assemblyFormat = [{
    $acc attr-dict `:` qualified(type($acc)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def FA4_QKMmaOp : FA4_Op<"qk_mma", [
    MemoryEffects<[MemRead<DefaultResource>]>]> {
  let summary = "S = Q K^T for each warp's rows, with mma.sync";
  let description = [{
    Each warp multiplies its rows of `q` (rows x D, in shared memory or
    already in registers as A fragments) by the transpose of `k` (N x D, in
    shared memory, read with `ldmatrix`) with `mma.sync.m16n8k16` and f32
    accumulation.

    ```mlir
    %s = fa4.qk_mma %sq, %sk : !fa4.smem<128x128xbf16>,
        !fa4.smem<64x128xbf16> -> !fa4.acc<128x64xf32, warps = 8>
    ```
  }];
  let arguments = (ins FA4_SmemOrAFrag:$q, FA4_SmemTileType:$k);
  let results = (outs FA4_AccTileType:$result);
  let assemblyFormat = [{
    $q `,` $k attr-dict `:` qualified(type($q)) `,` qualified(type($k)) `->`
    qualified(type($result))
  }];
  let hasVerifier = 1;
}

def FA4_MaskOp : FA4_Op<"mask", [Pure, AttrSizedOperandSegments,
                                 AllTypesMatch<["scores", "result"]>]> {
  let summary = "sets scores outside the valid key range to -inf";
  let description = [{
    Row r and column c of the tile are query `row + r` and key `col + c`.
    A score is set to -inf when the key is at or past `limit` (seqlen_k),
    with `diag_max` when key > query + diag_max (causal: Sk - Sq; a window:
    Sk - Sq + right), and with `diag_min` when key < query + diag_min (a
    window: Sk - Sq - left).
  }];
  let arguments = (ins FA4_AccTileType:$scores, I32:$row, I32:$col,
                       I32:$limit, Optional<I32>:$diag_max,
                       Optional<I32>:$diag_min, Optional<I32>:$group);
  let results = (outs FA4_AccTileType:$result);
  let assemblyFormat = [{
    $scores `row` $row `col` $col `limit` $limit
    (`diag_max` $diag_max^)? (`diag_min` $diag_min^)? (`group` $group^)?
    attr-dict `:` qualified(type($scores))
  }];
  let builders = [
    OpBuilder<(ins "Value":$scores, "Value":$row, "Value":$col,
                   "Value":$limit, "Value":$diagMax, "Value":$diagMin), [{
      build($_builder, $_state, scores, row, col, limit, diagMax, diagMin,
            Value());
    }]>
  ];
}

def FA4_AlibiOp : FA4_Op<"alibi", [Pure, AllTypesMatch<["scores", "result"]>]> {
  let summary = "adds ALiBi's linear bias: slope * |query + diag - key|";
  let description = [{
    Row r and column c of the tile are query `row + r` and key `col + c`;
    each score gains slope * |query + diag - key|, with `diag` = Sk - Sq
    (the bottom-right aligned diagonal) and `slope` the head's ALiBi slope
    negated and divided by the softmax's scale (softmax_scale, or the cap
    with softcap), so that the scaled score gains FlashAttention-2's
    -alibi_slope * |q + Sk - Sq - k|, causal or not. It comes after the mask:
    a masked -inf stays -inf. Per score: a subtraction, an absolute value
    and an FMA in f32 (distances are exact below 2^24).
  }];
  let arguments = (ins FA4_AccTileType:$scores, I32:$row, I32:$col,
                       I32:$diag, F32:$slope);
  let results = (outs FA4_AccTileType:$result);
  let assemblyFormat = [{
    $scores `row` $row `col` $col `diag` $diag `slope` $slope attr-dict `:`
    qualified(type($scores))
  }];
}

def FA4_SoftcapOp : FA4_Op<"softcap", [Pure,
                                       AllTypesMatch<["scores", "result"]>]> {
  let summary = "bounds the scores smoothly: S becomes tanh(S * pre)";
  let description = [{
    Softcapping (Gemma-2, Grok): the scaled scores scale * S become
    c * tanh(scale * S / c). This op computes tanh(pre * S) with
    pre = scale / c; the online softmax then scales by c * log2(e) instead
    of scale * log2(e). It comes before `fa4.mask`, so masked keys stay
    -inf. tanh is tanh.approx.f32 (relative error 2^-11, one MUFU op, as
    FlashAttention-2): the two-MUFU form exact to 2^-22 cost a third more
    time at D = 64 and bought nothing the correctness rule measures.

    With `if %on` (a `switchable` kernel's run-time switch, uniform across
    the CTA) the scores pass through unchanged where `%on` is false.
  }];
  let arguments = (ins FA4_AccTileType:$scores, F32:$pre, Optional<I1>:$on);
  let results = (outs FA4_AccTileType:$result);
  let assemblyFormat = [{
    $scores `scale` $pre (`if` $on^)? attr-dict `:` qualified(type($scores))
  }];
}

def FA4_DropoutMaskOp : FA4_Op<"dropout_mask", [Pure]> {
  let summary = "draws a key block's dropout keep bits, Philox 4x32-10";
  let description = [{
    The keep decisions of one key block of a `tile`-shaped probability tile.
    Element (query r, key c) of the tile, r = `row` + its tile row and
    c = `col` + its tile column, is kept iff its 8-bit draw is below `keep`
    (round((1 - p) * 256), so the keep probability is within 1/512 of
    1 - p, FlashAttention-2's resolution).

    The draws depend only on (seed, stream, r, c), not on the tile
    configuration. For the 16 x 32 block (R, C) = (r / 16, c / 32), lane
    l = (r % 8) * 4 + (c % 8) / 2 of the mma.sync C layout draws
      (w0, w1, w2, w3) = Philox4x32-10(counter (32 C + l, R, stream_lo,
                                       stream_hi), key (seed_lo, seed_hi))
    and element (r, c) takes byte 2 ((r % 16) / 8) + c % 2 of word
    (c % 32) / 8: one Philox call per lane per 16 x 32 block, each lane
    drawing only its own sixteen elements (as FlashAttention-2 draws).
    `stream` (a 64-bit value as two halves) is the caller's offset plus the
    (batch, head) index, so one call's heads and the next call's (offset
    advanced by B * H or more) never share a counter.

    The result holds one bit per value of the lane's share of the tile:
    value c (0..3) of C fragment (mt, nt) is bit 4 (mt * NT + nt) + c of the
    bit string, 32 bits to an i32. Only the block's coordinates feed the
    draws, so the op may be placed anywhere in the body; placed next to
    `fa4.dropout`, the bit string folds away into the compares.

    ```mlir
    %keep_bits = fa4.dropout_mask row %q_row col %key_col seed(%lo, %hi)
        stream(%s_lo, %s_hi) keep %keep : !fa4.acc<64x64xf32, warps = 4>
        -> vector<1xi32>
    ```
  }];
  let arguments = (ins I32:$row, I32:$col, I32:$seed_lo, I32:$seed_hi,
                       I32:$stream_lo, I32:$stream_hi, I32:$keep,
                       TypeAttrOf<FA4_AccTileType>:$tile);
  let results = (outs VectorOfRankAndType<[1], [I32]>:$bits);
  let assemblyFormat = [{
    `row` $row `col` $col `seed` `(` $seed_lo `,` $seed_hi `)`
    `stream` `(` $stream_lo `,` $stream_hi `)` `keep` $keep
    attr-dict `:` $tile `->` type($bits)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The i32 words of keep bits a lane holds for `tile`: one bit per
    /// value of its C fragments.
    static int64_t getNumWords(AccTileType tile) {
      return (tile.getMTiles() * tile.getNTiles() * 4 + 31) / 32;
    }
  }];
}

def FA4_DropoutOp : FA4_Op<"dropout", [Pure,
                                       AllTypesMatch<["probs", "result"]>]> {
  let summary = "zeroes the probabilities a dropout mask drops";
  let description = [{
    Dropout on the unnormalized probabilities P of one key block, after the
    online softmax (whose row sums stay those before dropout, as in
    FlashAttention-2) and before P V: a value whose bit of `bits` (the
    layout of `fa4.dropout_mask`) is clear becomes 0 (or, with `negated`,
    its negation: FlashAttention-2's S_dmask encoding), a kept one passes
    unchanged. The kept values' 1 / (1 - p) is applied once, to the
    normalized output (`fa4.finalize ... out_scale`): one multiply per output
    value instead of one per probability, and P keeps its bf16/f16 rounding
    of a value in [0, 1].

    ```mlir
    %pd = fa4.dropout %p bits %keep_bits : !fa4.acc<64x64xf32, warps = 4>,
        vector<1xi32>
    ```
  }];
  let arguments = (ins FA4_AccTileType:$probs,
                       VectorOfRankAndType<[1], [I32]>:$bits,
                       UnitAttr:$negated);
  let results = (outs FA4_AccTileType:$result);
  let assemblyFormat = [{
    $probs `bits` $bits (`negated` $negated^)? attr-dict `:`
    qualified(type($probs)) `,` type($bits)
  }];
  let hasVerifier = 1;
}

def FA4_OnlineSoftmaxOp : FA4_Op<"online_softmax", [Pure,
    AllTypesMatch<["max", "sum"]>,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "one step of the online softmax";
  let description = [{
    For each row, with s = `scale_log2` (softmax_scale * log2(e)):

      m_new = max(m_old, max_j S[j])
      base  = m_new == -inf ? 0 : m_new * s
      corr  = exp2(m_old * s - base)
      P[j]  = exp2(S[j] * s - base)
      l_new = l_old * corr + sum_j P[j]     (a per-lane partial sum)

    `corr` rescales the running output before P V is added to it.
  }];
  let arguments = (ins FA4_AccTileType:$scores, FA4_RowStatsType:$max,
                       FA4_RowStatsType:$sum, F32:$scale_log2);
  let results = (outs FA4_AccTileType:$probs, FA4_RowStatsType:$new_max,
                      FA4_RowStatsType:$new_sum,
                      FA4_RowStatsType:$correction);
  let assemblyFormat = [{
    $scores `,` $max `,` $sum `scale` $scale_log2 attr-dict `:`
    qualified(type($scores)) `,` qualified(type($max))
  }];
  let hasVerifier = 1;
}

def FA4_RescaleOp : FA4_Op<"rescale", [Pure,
                                       AllTypesMatch<["acc", "result"]>]> {
  let summary = "multiplies each row of an accumulator by a row factor";
  let arguments = (ins FA4_AccTileType:$acc, FA4_RowStatsType:$factor);
  let results = (outs FA4_AccTileType:$result);
  let assemblyFormat = [{
    $acc `by` $factor attr-dict `:` qualified(type($acc)) `,` qualified(type($factor))
  }];
  let hasVerifier = 1;
}

def FA4_PVMmaOp : FA4_Op<"pv_mma", [
    MemoryEffects<[MemRead<DefaultResource>]>,
    AllTypesMatch<["acc", "result"]>]> {
  let summary = "O += P V with P in registers";
  let description = [{
    Accumulates P V into `acc`: P as A fragments in registers (from
    `fa4.pack_a`), V (N x Dv, row-major in shared memory) as the `col` B
    operand through `ldmatrix.trans`.
  }];
  let arguments = (ins FA4_AFragType:$probs, FA4_SmemTileType:$v,
                       FA4_AccTileType:$acc);
  let results = (outs FA4_AccTileType:$result);
  let assemblyFormat = [{
    $probs `,` $v `,` $acc attr-dict `:` qualified(type($probs)) `,`
    qualified(type($v)) `->` qualified(type($acc))
  }];
  let hasVerifier = 1;
}

def FA4_FinalizeOp : FA4_Op<"finalize", [Pure, AttrSizedOperandSegments,
    AllTypesMatch<["max", "sum"]>,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "normalizes the output and computes the log-sum-exp";
  let description = [{
    Reduces the per-lane partial sums across each quad, then per row:

      O   = l == 0 ? 0 : O / l
      LSE = l == 0 ? -inf : (m * scale_log2 + log2(l)) * ln(2)

    A row that saw no key (l == 0) gets O = 0 and LSE = -inf, never NaN.

    With `sink` (a learnable attention sink: a logit that joins every row's
    softmax denominator and adds no value row, as gpt-oss uses), given in
    base-2 units (sink * log2(e)), with m2 = m * scale_log2:

      mx  = max(m2, sink)
      l'  = l * exp2(m2 - mx) + exp2(sink - mx)
      O   = O * exp2(m2 - mx) / l'
      LSE = (mx + log2(l')) * ln(2)

    l' > 0 always: a row that saw no key gets O = 0 and LSE = the sink.

    With `out_scale` (dropout's 1 / (1 - p)), O is multiplied by it as well;
    the LSE is that of the probabilities before dropout.
  }];
  let arguments = (ins FA4_AccTileType:$acc, FA4_RowStatsType:$max,
                       FA4_RowStatsType:$sum, F32:$scale_log2,
                       Optional<F32>:$sink, Optional<F32>:$out_scale);
  let results = (outs FA4_AccTileType:$out, FA4_RowStatsType:$lse);
  let assemblyFormat = [{
    $acc `,` $max `,` $sum `scale` $scale_log2 (`sink` $sink^)?
    (`out_scale` $out_scale^)? attr-dict `:`
    qualified(type($acc)) `,` qualified(type($max))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Stores
//===----------------------------------------------------------------------===//

def FA4_StoreTileOp : FA4_Op<"store_tile", [AttrSizedOperandSegments]> {
  let summary = "stores an accumulator tile to global memory";
  let description = [{
    Converts each value to `element_type` (bf16, f16, or f32 as computed:
    split-KV's partial output) and stores row r of the tile to row
    `row + r` of the row-major matrix at `base` (element row stride
    `stride`), skipping rows at or past `limit`. With `group(%g,
    %head_stride)` (GQA packing) row p goes to `base + (p / g) * stride +
    (p % g) * head_stride`.
  }];
  let arguments = (ins FA4_AccTileType:$tile,
                       Arg<FA4_GlobalPtr, "", [MemWrite]>:$base, I32:$row,
                       I32:$limit, I32:$stride, TypeAttr:$element_type,
                       Optional<I32>:$group, Optional<I64>:$head_stride);
  let assemblyFormat = [{
    $tile `,` $base `[` $row `]` `limit` $limit `stride` $stride
    (`group` `(` $group^ `,` $head_stride `)`)? attr-dict
    `:` qualified(type($tile)) `as` $element_type
  }];
  let builders = [
    OpBuilder<(ins "Value":$tile, "Value":$base, "Value":$row,
                   "Value":$limit, "Value":$stride, "Type":$elementType), [{
      build($_builder, $_state, tile, base, row, limit, stride,
            TypeAttr::get(elementType), Value(), Value());
    }]>
  ];
  let hasVerifier = 1;
}

def FA4_StoreRowsOp : FA4_Op<"store_rows", [AttrSizedOperandSegments]> {
  let summary = "stores one f32 per row to global memory";
  let description = [{
    Stores row r's value to `base[row + r]`, skipping rows at or past
    `limit`. One lane of each quad writes. With `group(%g, %head_stride)`
    (GQA packing) row p goes to `base[p / g + (p % g) * head_stride]`.
  }];
  let arguments = (ins FA4_RowStatsType:$values,
                       Arg<FA4_GlobalPtr, "", [MemWrite]>:$base, I32:$row,
                       I32:$limit, Optional<I32>:$group,
                       Optional<I64>:$head_stride);
  let assemblyFormat = [{
    $values `,` $base `[` $row `]` `limit` $limit
    (`group` `(` $group^ `,` $head_stride `)`)? attr-dict `:` qualified(type($values))
  }];
  let builders = [
    OpBuilder<(ins "Value":$values, "Value":$base, "Value":$row,
                   "Value":$limit), [{
      build($_builder, $_state, values, base, row, limit, Value(), Value());
    }]>
  ];
  let hasVerifier = 1;
}

def FA4_MergeSplitsOp : FA4_Op<"merge_splits", [
    MemoryEffects<[MemRead<DefaultResource>]>]> {
  let summary = "merges one row's split-KV partial outputs";
  let description = [{
    The combine of split-KV: `num_splits` partial results of one output row,
    split i's LSE at `lse_partial[i * lse_split_stride]` (natural log) and
    its normalized output columns at `o_partial[i * o_split_stride + c]`,
    c < the result's width (this thread's columns), merge into

      m   = max_i lse_i
      lse = m + log(sum_i exp(lse_i - m))
      O   = sum_i exp(lse_i - lse) * O_i

    computed in base 2 in one online pass (running max, sum and weighted
    sum of the outputs, rescaled when the max grows) that loads 16 splits
    at a time before using any. A row no split saw (every lse_i = -inf)
    gets O = 0 and LSE = -inf, never NaN.

    ```mlir
    %o, %lse = fa4.merge_splits %o_part, %lse_part splits(%num_splits)
        strides(%o_stride, %lse_stride) : vector<4xf32>
    ```
  }];
  let arguments = (ins FA4_GlobalPtr:$o_partial, FA4_GlobalPtr:$lse_partial,
                       I32:$num_splits, I64:$o_split_stride,
                       I64:$lse_split_stride);
  let results = (outs VectorOfRankAndType<[1], [F32]>:$out, F32:$lse);
  let assemblyFormat = [{
    $o_partial `,` $lse_partial `splits` `(` $num_splits `)` `strides` `(`
    $o_split_stride `,` $lse_split_stride `)` attr-dict `:` type($out)
  }];
  let hasVerifier = 1;
}

def FA4_FillNaNOp : FA4_Op<"fill_nan"> {
  let summary = "sets rows of a matrix in global memory to NaN";
  let description = [{
    Every thread of the CTA helps set rows [from, limit) x `cols` of the
    row-major matrix at `base` (element row stride `stride`) to a quiet NaN
    of `element_type`. It marks output that no CTA computes (a varlen
    sequence longer than the grid's max_seqlen_q allows), so that bad input
    shows in the output instead of leaving it unwritten.

    ```mlir
    fa4.fill_nan %o_base[%from to %seqlen_q] stride %o_row_stride cols(128) as bf16
    ```
  }];
  let arguments = (ins Arg<FA4_GlobalPtr, "", [MemWrite]>:$base, I32:$from,
                       I32:$limit, I32:$stride,
                       ConfinedAttr<I64Attr, [IntPositive]>:$cols,
                       TypeAttr:$element_type);
  let assemblyFormat = [{
    $base `[` $from `to` $limit `]` `stride` $stride `cols` `(` $cols `)`
    attr-dict `as` $element_type
  }];
  let hasVerifier = 1;
}

#endif // FA4_DIALECT_FA4_IR_FA4OPS_TD

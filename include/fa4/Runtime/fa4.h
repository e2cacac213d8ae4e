/*===- fa4.h - fa4 runtime C API ----------------------------------*- C -*-===*
 *
 * The fa4 runtime launches the attention kernels fa4 generated at build time
 * (they are embedded in the library as PTX for sm_120a, sm_121a and sm_90).
 * It has no MLIR dependency and no link-time CUDA dependency: the CUDA driver
 * (libcuda.so.1) is loaded on first use, and its absence is a status, never a
 * crash. Every entry point takes the CUDA stream last.
 *
 *   fa4_fwd_params p;
 *   fa4_fwd_params_init(&p);
 *   p.q = q; p.k = k; p.v = v; p.out = o;       // device pointers
 *   p.batch = 2; p.seqlen_q = p.seqlen_k = 1024;
 *   p.nheads_q = 32; p.nheads_kv = 8; p.head_dim = p.head_dim_v = 128;
 *   p.dtype = FA4_DTYPE_BF16; p.causal = 1;
 *   fa4_status s = fa4_fwd(&p, stream);
 *   if (s != FA4_SUCCESS) fprintf(stderr, "%s\n", fa4_last_error());
 *
 *===----------------------------------------------------------------------===*/

#ifndef FA4_RUNTIME_FA4_H
#define FA4_RUNTIME_FA4_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FA4_API __attribute__((visibility("default")))
#else
#define FA4_API
#endif

/* Results. Each failure also sets a message, read with fa4_last_error(),
 * that names the offending argument. */
typedef enum fa4_status {
  FA4_SUCCESS = 0,
  FA4_ERROR_NULL_POINTER = 1,       /* a required pointer is NULL */
  FA4_ERROR_INVALID_DTYPE = 2,      /* dtype is not bf16 or fp16 */
  FA4_ERROR_INVALID_SHAPE = 3,      /* a size is <= 0 (or < 0 for seqlens) */
  FA4_ERROR_UNSUPPORTED_HEAD_DIM = 4, /* no kernel for head_dim/head_dim_v */
  FA4_ERROR_INVALID_HEAD_RATIO = 5, /* nheads_q not a multiple of nheads_kv */
  FA4_ERROR_INVALID_STRIDE = 6,     /* last-dim stride != 1, negative stride */
  FA4_ERROR_MISALIGNED = 7,         /* pointer or stride not 16-byte aligned */
  FA4_ERROR_OVERFLOW = 8,           /* an offset does not fit the kernel's
                                       32-bit row arithmetic */
  FA4_ERROR_INVALID_ARGUMENT = 9,   /* any other bad value (softmax_scale…) */
  FA4_ERROR_UNSUPPORTED_FEATURE = 10, /* a feature fa4 has not built yet */
  FA4_ERROR_NO_KERNEL = 11,         /* no embedded kernel for the request */
  FA4_ERROR_NO_CUDA_DRIVER = 12,    /* libcuda.so.1 cannot be loaded */
  FA4_ERROR_NO_GPU = 13,            /* the driver sees no usable device */
  FA4_ERROR_UNSUPPORTED_GPU = 14,   /* no kernels for this compute capability */
  FA4_ERROR_CUDA = 15,              /* a CUDA driver call failed */
  FA4_ERROR_INTERNAL = 16,          /* kernel metadata and runtime disagree */
  FA4_ERROR_INVALID_DEVICE_VALUE = 17 /* checking mode: a cu_seqlens,
                                         seqused_k or block-table entry the
                                         device holds is out of range */
} fa4_status;

typedef enum fa4_dtype {
  FA4_DTYPE_BF16 = 0,
  FA4_DTYPE_FP16 = 1
} fa4_dtype;

/* Which global-to-shared load path to use. AUTO follows the dispatch rule;
 * the others force a path (for tests and benchmarks). */
typedef enum fa4_load_path {
  FA4_LOAD_PATH_AUTO = 0,
  FA4_LOAD_PATH_CP_ASYNC = 1,
  FA4_LOAD_PATH_TMA = 2
} fa4_load_path;

/* Forward attention: out = softmax(mods(softmax_scale * q k^T)) v, where
 * mods are the optional softcap and the causal or local (window) mask.
 * Layouts are FlashAttention's: q (batch, seqlen_q, nheads_q, head_dim),
 * k (batch, seqlen_k, nheads_kv, head_dim), v (batch, seqlen_k, nheads_kv,
 * head_dim_v), out (batch, seqlen_q, nheads_q, head_dim_v), all of `dtype`;
 * lse (batch, nheads_q, seqlen_q) fp32. Strides are in elements, in the
 * order (batch, seq, head, dim); the dim stride must be 1. A stride array of
 * all zeros means contiguous. */
/* Block-sparse attention (FlashAttention-4's BlockSparseTensors): which key
 * blocks each (batch entry, head, sparse q-block) visits. Sparse q-block i
 * holds query rows [i * block_m, (i + 1) * block_m) of its sequence; key
 * block j holds keys [j * block_n, (j + 1) * block_n). For each, int32
 * tensors on the device, contiguous:
 *   mask_block_cnt (batch, heads, m_blocks) and mask_block_idx (batch,
 *   heads, m_blocks, mask_capacity): the key blocks that apply the call's
 *   element masks (causal, window) and the key limit;
 *   full_block_cnt, full_block_idx (optional, NULL: none; capacity
 *   full_capacity): the key blocks that apply none (only keys past
 *   seqlen_k are masked).
 * Query head h reads pattern h % heads (heads is 1 or nheads_q). A key the
 * lists do not name is masked; a q-block with no listed block gets out = 0
 * and lse = -inf. The kernel's tile must divide block_m and block_n (a
 * call that breaks this fails naming both). The lists live on the device,
 * so the host cannot check them without a synchronization: the kernel
 * clamps each count to [0, capacity] and ignores an entry past the keys
 * (or negative), so no value makes it read outside the tensors; the Python
 * package checks them once, when its container is made. Off when
 * mask_block_cnt is NULL. */
typedef struct fa4_block_sparse {
  const int32_t *mask_block_cnt;
  const int32_t *mask_block_idx;
  const int32_t *full_block_cnt;
  const int32_t *full_block_idx;
  int64_t heads;         /* 1 or nheads_q */
  int64_t m_blocks;      /* at least cdiv(seqlen_q (max_seqlen_q), block_m) */
  int64_t mask_capacity; /* entries per list row, >= 1 */
  int64_t full_capacity; /* >= 1 when full lists are given */
  int64_t block_m;
  int64_t block_n;
} fa4_block_sparse;

typedef struct fa4_fwd_params {
  const void *q;
  const void *k;
  const void *v;
  void *out;
  float *lse; /* optional: NULL skips the log-sum-exp */

  int64_t batch;
  int64_t seqlen_q; /* 0 is allowed: nothing to do */
  int64_t seqlen_k; /* 0 is allowed: out = 0, lse = -inf */
  int64_t nheads_q;
  int64_t nheads_kv;
  int64_t head_dim;
  int64_t head_dim_v;

  int64_t q_strides[4];
  int64_t k_strides[4];
  int64_t v_strides[4];
  int64_t out_strides[4];
  int64_t lse_strides[3]; /* (batch, head, seq); the seq stride must be 1 */

  fa4_dtype dtype;
  float softmax_scale; /* 0 means 1 / sqrt(head_dim) */
  int causal;          /* bottom-right aligned when seqlen_q != seqlen_k */
  fa4_load_path load_path;
  /* Local (sliding-window) attention, FlashAttention-2's window_size, read
   * only when `local` is non-zero: query q sees key k iff
   * q + Sk - Sq - window_left <= k <= q + Sk - Sq + window_right, -1 being
   * unbounded; with causal the right size is 0. */
  int local;
  int64_t window_left;
  int64_t window_right;
  /* Softcapping: 0 is off; c > 0 makes the scaled scores
   * c * tanh(scores / c) (FlashAttention-2's order). */
  float softcap;
  /* ALiBi (NULL: none): fp32 slopes on the device, slope of query head h
   * of batch entry b at alibi_slopes[b * alibi_slopes_batch_stride + h]
   * (stride 0 for FlashAttention-2's (nheads) shape, nheads for its
   * (batch, nheads)); -slope * |q + Sk - Sq - k| is added to the scaled
   * (and capped) scores, causal or not. */
  const float *alibi_slopes;
  int64_t alibi_slopes_batch_stride;
  /* Learnable attention sinks (NULL: none): fp32 (nheads_q) on the device,
   * head h's logit (in the units of the scaled scores) joins each row's
   * softmax denominator and adds no value row (gpt-oss); the LSE includes
   * it. */
  const float *learnable_sink;
  /* Dropout (FlashAttention-2's dropout_p): 0 is off; 0 < p < 1 zeroes
   * each probability with chance p (kept iff an 8-bit draw is below
   * max(1, round((1 - p) * 256)), FlashAttention-2's resolution), after the
   * softmax's row sums (which stay those before dropout), and scales the
   * kept ones by 1 / (1 - p).
   * The mask is a function of (dropout_seed, dropout_offset, batch entry,
   * query head, query row, key column) only (Philox 4x32-10; the keying is
   * in docs/DESIGN.md): the same values give the same mask. A caller that
   * wants fresh masks advances dropout_offset by batch * nheads_q or more
   * per call. Runs on the cp.async load path. */
  float dropout_p;
  uint64_t dropout_seed;
  uint64_t dropout_offset;
  /* Or (NULL: dropout_offset as given): a device pointer, 8-byte aligned,
   * to the uint64_t offset, which the kernel reads when it runs instead of
   * dropout_offset. For CUDA graph capture: a kernel captured before this
   * one writes a fresh offset for each replay, so each replay draws a fresh
   * mask (the Python layer draws it with torch's generator). Needs
   * dropout_p > 0. */
  const uint64_t *dropout_offset_ptr;
  /* FlashAttention-2's S_dmask, its return_attn_probs testing aid (NULL:
   * none; needs dropout_p > 0). Per (batch, query head) a matrix of `dtype`
   * with at least round_up(seqlen_q, 128) rows and round_up(seqlen_k, 128)
   * columns, column stride 1, at s_dmask_strides (batch, head, row; all
   * zero: contiguous at exactly that size). The kernel writes each key
   * block it visits: the probabilities as computed (exp of the scaled score
   * minus the running row max at that block, before normalization), negated
   * where dropout dropped them, in its rows below seqlen_q; what it does
   * not visit (past the causal diagonal, rows past seqlen_q) is left as it
   * was. fa4_fwd_probs_block_n gives the key-block
   * size that normalizing them needs. fa4_varlen_fwd_params has one too. */
  void *s_dmask;
  int64_t s_dmask_strides[3];
  /* Block-sparse attention (mask_block_cnt NULL: dense). */
  fa4_block_sparse block_sparse;
} fa4_fwd_params;

/* Zeroes `params` and sets the defaults (contiguous strides, default scale,
 * non-causal, no window (sizes -1), no softcap, automatic load path,
 * bf16). */
FA4_API void fa4_fwd_params_init(fa4_fwd_params *params);

/* Launches the forward kernel on `stream` (a CUstream / cudaStream_t; NULL
 * is the legacy default stream) of the calling thread's current CUDA
 * context (the device's primary context if none is current). Returns once
 * the kernel is queued. */
FA4_API fa4_status fa4_fwd(const fa4_fwd_params *params, void *stream);

/* The key-block size of the kernel fa4_fwd runs for `params` with s_dmask
 * (FlashAttention-2's _get_block_size_n for normalize_flash_attn_S): the
 * blocks, visited from the last to the first, whose running max S_dmask's
 * entries are relative to. Checks `params` as fa4_fwd does (s_dmask may be
 * NULL); touches no GPU memory. */
FA4_API fa4_status fa4_fwd_probs_block_n(const fa4_fwd_params *params,
                                         int64_t *block_n);

/* Forward attention over a batch of sequences of different lengths
 * (FlashAttention-2's varlen layout), optionally with a paged K/V cache.
 *
 * Sequence b's queries are rows [cu_seqlens_q[b], cu_seqlens_q[b + 1]) of
 * q (total_q, nheads_q, head_dim) and out (total_q, nheads_q, head_dim_v);
 * its keys are rows [cu_seqlens_k[b], cu_seqlens_k[b + 1]) of k (total_k,
 * nheads_kv, head_dim) and v (total_k, nheads_kv, head_dim_v), the first
 * seqused_k[b] of them when seqused_k is given. lse, when given, is
 * (nheads_q, total_q) fp32. Causal masks are bottom-right aligned per
 * sequence; a sequence of length 0 is allowed.
 *
 * Paged K/V (block_table != NULL): k and v are (num_pages, page_size,
 * nheads_kv, head_dim[_v]); key j of sequence b is row j % page_size of
 * page block_table[b * block_table_stride + j / page_size]; the sequence's
 * key count is cu_seqlens_k[b + 1] - cu_seqlens_k[b] (or seqused_k[b]).
 * page_size must be a positive multiple of 16.
 *
 * Strides are in elements: (token, head, dim) for q, out and unpaged k, v;
 * (row within a page, head, dim) for paged k, v, whose page stride is
 * k_page_stride / v_page_stride. All zeros means contiguous.
 *
 * What only the device holds (cu_seqlens, seqused_k, the block table)
 * cannot be checked without a synchronization, so fa4_varlen_fwd does not:
 * the kernel clamps every offset and page index so that no value makes it
 * read or write outside the tensors. max_seqlen_q sizes the grid, as in
 * FlashAttention-2: the rows of a sequence longer than it have no CTA, and
 * the kernel fills them (and their LSE) with NaN rather than leave them
 * unwritten, so an underestimate shows up. check_inputs = 1 (or the
 * environment variable FA4_CHECK_INPUTS=1) copies those values to the
 * host, synchronizes the stream and fails naming the first bad entry. */
typedef struct fa4_varlen_fwd_params {
  const void *q;
  const void *k;
  const void *v;
  void *out;
  float *lse; /* optional: NULL skips the log-sum-exp */
  const int32_t *cu_seqlens_q; /* (batch + 1) */
  const int32_t *cu_seqlens_k; /* (batch + 1) */
  const int32_t *seqused_k;    /* optional (batch) */

  int64_t batch;
  int64_t total_q; /* rows of q and out */
  int64_t total_k; /* rows of k and v (unpaged) */
  int64_t max_seqlen_q;
  int64_t max_seqlen_k;
  int64_t nheads_q;
  int64_t nheads_kv;
  int64_t head_dim;
  int64_t head_dim_v;

  int64_t q_strides[3];
  int64_t k_strides[3];
  int64_t v_strides[3];
  int64_t out_strides[3];
  int64_t lse_strides[2]; /* (head, token); the token stride must be 1 */

  /* Paged K/V: NULL for packed k, v. */
  const int32_t *block_table; /* (batch, max_pages) */
  int64_t block_table_stride; /* 0 means max_pages */
  int64_t max_pages;
  int64_t num_pages;
  int64_t page_size;
  int64_t k_page_stride; /* 0 means page_size * the row stride */
  int64_t v_page_stride;

  fa4_dtype dtype;
  float softmax_scale; /* 0 means 1 / sqrt(head_dim) */
  int causal;
  int check_inputs; /* validate device-held values (synchronizes) */
  /* Local (sliding-window) attention, FlashAttention-2's window_size, read
   * only when `local` is non-zero: query q sees key k iff
   * q + Sk - Sq - window_left <= k <= q + Sk - Sq + window_right, -1 being
   * unbounded; with causal the right size is 0. */
  int local;
  int64_t window_left;
  int64_t window_right;
  /* Softcapping: 0 is off; c > 0 makes the scaled scores
   * c * tanh(scores / c) (FlashAttention-2's order). */
  float softcap;
  /* ALiBi (NULL: none): fp32 slopes on the device, slope of query head h
   * of batch entry b at alibi_slopes[b * alibi_slopes_batch_stride + h]
   * (stride 0 for FlashAttention-2's (nheads) shape, nheads for its
   * (batch, nheads)); -slope * |q + Sk - Sq - k| is added to the scaled
   * (and capped) scores, causal or not. */
  const float *alibi_slopes;
  int64_t alibi_slopes_batch_stride;
  /* Learnable attention sinks (NULL: none): fp32 (nheads_q) on the device,
   * head h's logit (in the units of the scaled scores) joins each row's
   * softmax denominator and adds no value row (gpt-oss); the LSE includes
   * it. */
  const float *learnable_sink;
  /* Dropout (FlashAttention-2's dropout_p): 0 is off; 0 < p < 1 zeroes
   * each probability with chance p (kept iff an 8-bit draw is below
   * max(1, round((1 - p) * 256)), FlashAttention-2's resolution), after the
   * softmax's row sums (which stay those before dropout), and scales the
   * kept ones by 1 / (1 - p).
   * The mask is a function of (dropout_seed, dropout_offset, batch entry,
   * query head, query row, key column) only (Philox 4x32-10; the keying is
   * in docs/DESIGN.md): the same values give the same mask. A caller that
   * wants fresh masks advances dropout_offset by batch * nheads_q or more
   * per call. Runs on the cp.async load path. */
  float dropout_p;
  uint64_t dropout_seed;
  uint64_t dropout_offset;
  /* Or (NULL: dropout_offset as given): a device pointer, 8-byte aligned,
   * to the uint64_t offset, which the kernel reads when it runs instead of
   * dropout_offset. For CUDA graph capture: a kernel captured before this
   * one writes a fresh offset for each replay, so each replay draws a fresh
   * mask (the Python layer draws it with torch's generator). Needs
   * dropout_p > 0. */
  const uint64_t *dropout_offset_ptr;
  /* Block-sparse attention (mask_block_cnt NULL: dense); batch entry b is
   * sequence b and its q-blocks count from the sequence's first query. */
  fa4_block_sparse block_sparse;
  /* FlashAttention-2's S_dmask as in fa4_fwd_params (NULL: none; needs
   * dropout_p > 0; not with block_table): per (sequence b, query head) a
   * matrix with at least round_up(max_seqlen_q, 128) rows and
   * round_up(max_seqlen_k, 128) columns, column stride 1, at
   * s_dmask_strides (sequence, head, row; all zero: contiguous at exactly
   * that size). Row i and column j of sequence b are its query i and key j;
   * the kernel writes rows below that sequence's length and inside those
   * sizes. With a window, softcap or ALiBi it runs on the switchable
   * S_dmask kernel; sinks with it have no embedded kernel
   * (FA4_ERROR_NO_KERNEL). */
  void *s_dmask;
  int64_t s_dmask_strides[3];
} fa4_varlen_fwd_params;

/* Zeroes `params` and sets the defaults (contiguous strides, default scale,
 * non-causal, no window (sizes -1), no softcap, bf16, no paging, no
 * checking). */
FA4_API void fa4_varlen_fwd_params_init(fa4_varlen_fwd_params *params);

/* Launches the varlen forward kernel on `stream`, as fa4_fwd does. */
FA4_API fa4_status fa4_varlen_fwd(const fa4_varlen_fwd_params *params,
                                  void *stream);

/* sizeof(fa4_varlen_fwd_params), for bindings to check their layout. */
FA4_API uint64_t fa4_varlen_fwd_params_size(void);

/* Attention over a KV cache (FlashAttention-2's flash_attn_with_kvcache),
 * the decode and short-prefill entry point.
 *
 * q (batch, seqlen_q, nheads_q, head_dim) and out (batch, seqlen_q,
 * nheads_q, head_dim_v) are dense; lse, when given, is (batch, nheads_q,
 * seqlen_q) fp32. The cache is either contiguous, k_cache (batch_cache,
 * seqlen_cache, nheads_kv, head_dim) and v_cache likewise with head_dim_v,
 * or paged (block_table != NULL): (num_pages, page_size, nheads_kv, dim),
 * batch entry b's key j in page block_table[b * block_table_stride +
 * j / page_size]. Batch entry b attends to keys [leftpad, cache_seqlens[b])
 * of cache entry cache_batch_idx[b] (contiguous cache only; NULL: entry b),
 * leftpad = cache_leftpad[b] (contiguous only; NULL: 0); cache_seqlens NULL
 * means cache_seqlen keys for every entry. Causal masks are bottom-right
 * aligned to those keys.
 *
 * Split-KV: num_splits CTAs share each (m-block, head, batch)'s keys and a
 * combine kernel merges their fp32 partial outputs, which live in a
 * caller-provided workspace (fa4_kvcache_workspace_size; no allocation or
 * synchronization happens inside, so the call can be captured in a CUDA
 * graph). num_splits = 0 chooses a count that fills the device's SMs
 * (README: the rule); 1 writes out directly and needs no workspace; at most
 * 128. With GQA (no ALiBi) the query heads of one KV head are packed into
 * the M tile (row s * g + j is query s of head j of the group), so each KV
 * block is read once per group, for any seqlen_q.
 *
 * Appending: with k_new / v_new (batch, seqlen_new, nheads_kv, head_dim[_v])
 * a generated append kernel first writes token t of entry b to cache row
 * cache_seqlens[b] + t (in place; rows past the cache are not written), and
 * attention sees cache_seqlens[b] + seqlen_new keys. With rotary tables
 * (rotary_cos / rotary_sin (seqlen_ro, rotary_dim / 2) of dtype,
 * contiguous) the new keys are rotated at their positions, and the queries
 * at cache_seqlens[b] + s (causal or local) or cache_seqlens[b], into the
 * workspace; pairs (i, i + rotary_dim / 2), or (2i, 2i + 1) with
 * rotary_interleaved. */
typedef struct fa4_kvcache_params {
  const void *q;
  const void *k_cache;
  const void *v_cache;
  void *out;
  float *lse;                     /* optional */
  const int32_t *cache_seqlens;   /* optional (batch) */
  const int32_t *cache_batch_idx; /* optional (batch), contiguous cache */
  const int32_t *cache_leftpad;   /* optional (batch), contiguous cache */

  int64_t batch;
  int64_t seqlen_q;
  int64_t cache_seqlen; /* keys per entry when cache_seqlens is NULL */
  int64_t batch_cache;  /* contiguous cache entries */
  int64_t seqlen_cache; /* contiguous cache rows per entry */
  int64_t nheads_q;
  int64_t nheads_kv;
  int64_t head_dim;
  int64_t head_dim_v;

  /* Elements, (batch, seq, head, dim); paged caches: (page, row, head,
   * dim). All zeros means contiguous. */
  int64_t q_strides[4];
  int64_t k_cache_strides[4];
  int64_t v_cache_strides[4];
  int64_t out_strides[4];
  int64_t lse_strides[3];

  /* Paged cache: NULL for a contiguous one. */
  const int32_t *block_table; /* (batch, max_pages) */
  int64_t block_table_stride; /* 0 means max_pages */
  int64_t max_pages;
  int64_t num_pages;
  int64_t page_size; /* a positive multiple of 16 */

  fa4_dtype dtype;
  float softmax_scale; /* 0 means 1 / sqrt(head_dim) */
  int causal;
  int local; /* windows, softcap and ALiBi: as fa4_fwd_params */
  int64_t window_left;
  int64_t window_right;
  float softcap;
  const float *alibi_slopes; /* ALiBi turns GQA packing off */
  int64_t alibi_slopes_batch_stride;
  int num_splits; /* 0: heuristic; 1..128 */

  /* Appending (NULL: none; both or neither). */
  const void *k_new;
  const void *v_new;
  int64_t seqlen_new;
  int64_t k_new_strides[4]; /* all zeros: contiguous */
  int64_t v_new_strides[4];
  /* Rotary (NULL: none; needs k_new). */
  const void *rotary_cos;
  const void *rotary_sin;
  int64_t rotary_dim; /* even, <= head_dim */
  int64_t seqlen_ro;  /* rows of the tables, at least the cache's rows */
  int rotary_interleaved;
} fa4_kvcache_params;

/* Zeroes `params` and sets the defaults (contiguous strides, default scale,
 * non-causal, no window, bf16, num_splits 0). */
FA4_API void fa4_kvcache_params_init(fa4_kvcache_params *params);

/* The workspace bytes fa4_kvcache_fwd needs for `params` on the current
 * device (0 when it runs one split). Validates `params` as fa4_kvcache_fwd
 * does. */
FA4_API fa4_status fa4_kvcache_workspace_size(const fa4_kvcache_params *params,
                                              uint64_t *bytes);

/* Launches the append kernel (when appending or rotating), the attention
 * kernel and, with more than one split, the combine kernel on `stream`.
 * `workspace` (16-byte aligned, device memory) must hold
 * fa4_kvcache_workspace_size bytes; it may be NULL when that is 0. */
FA4_API fa4_status fa4_kvcache_fwd(const fa4_kvcache_params *params,
                                   void *workspace, uint64_t workspace_bytes,
                                   void *stream);

/* sizeof(fa4_kvcache_params). */
FA4_API uint64_t fa4_kvcache_params_size(void);

/* A fixed description of `status`. */
FA4_API const char *fa4_status_string(fa4_status status);

/* The message of the last failure on the calling thread ("" if none). */
FA4_API const char *fa4_last_error(void);

/* The runtime's version, "MAJOR.MINOR.PATCH". */
FA4_API const char *fa4_version(void);

/* What the library embeds: one PTX module per (kernel source, target), for
 * 0 <= index < fa4_module_count(). fa4_module_name(i) is the source's name
 * ("fa4_fwd_bf16_hd128"), fa4_module_target(i) its target ("sm_120a");
 * both are NULL past the end. */
FA4_API uint64_t fa4_module_count(void);
FA4_API const char *fa4_module_name(uint64_t index);
FA4_API const char *fa4_module_target(uint64_t index);

/* A GPU as the runtime sees it. */
typedef struct fa4_device_info {
  int driver_version; /* the CUDA driver's, 1000 * major + 10 * minor; 0 when
                         no driver loads */
  int device_count;   /* the devices the driver sees */
  int compute_capability_major;
  int compute_capability_minor;
  int multiprocessors;
  int shared_memory_per_block_optin; /* bytes a CTA may use */
  char name[256];
  const char *target; /* the target this library embeds that runs on it
                         ("sm_120a"), NULL when it embeds none */
} fa4_device_info;

/* Fills `info` for device `ordinal`. With no driver, returns
 * FA4_ERROR_NO_CUDA_DRIVER; with a driver and no GPU, FA4_ERROR_NO_GPU with
 * driver_version set; an ordinal out of range is FA4_ERROR_INVALID_ARGUMENT.
 * A GPU without kernels is FA4_SUCCESS with target NULL. */
FA4_API fa4_status fa4_get_device_info(int ordinal, fa4_device_info *info);

/* sizeof(fa4_device_info), for bindings. */
FA4_API uint64_t fa4_device_info_size(void);

/* sizeof(fa4_fwd_params), for bindings that mirror the struct to check
 * their layout against the library's. */
FA4_API uint64_t fa4_fwd_params_size(void);

#ifdef __cplusplus
}
#endif

#endif /* FA4_RUNTIME_FA4_H */

//===- BlockSparse.cpp - block-sparse lists of a request ------------------===//
//
// FlashAttention-4's BlockSparseTensors as the kernels take them: what the
// host can see (pointers, sizes, block sizes against the selected kernel's
// tile) is checked here; what only the device holds (counts, entries) is
// clamped by the kernel (fa4-tile-attention's buildBlockLists and the
// schedule's listBlock), so no value makes it read outside the lists or
// the tensors.
//
//===----------------------------------------------------------------------===//

#include "Launch.h"
#include "ScoreMods.h"
#include "Status.h"

#include <algorithm>
#include <cstdint>

using namespace fa4::rt;

/// Counts, capacities and q-blocks are 32-bit kernel parameters, and a
/// list position (count x tiles per entry) must stay 32-bit too.
static constexpr int64_t kMaxListValue = (int64_t(1) << 31) - 1;

fa4_status fa4::rt::resolveBlockSparse(const fa4_block_sparse &sparse,
                                       int64_t nheads, int64_t maxSeqlenQ,
                                       ScoreMods &mods) {
  mods.blockSparse = sparse.mask_block_cnt != nullptr;
  if (!mods.blockSparse) {
    if (sparse.mask_block_idx || sparse.full_block_cnt || sparse.full_block_idx)
      return fail(FA4_ERROR_NULL_POINTER,
                  "block_sparse: index or full-block lists without "
                  "mask_block_cnt");
    return FA4_SUCCESS;
  }
  if (!sparse.mask_block_idx)
    return fail(FA4_ERROR_NULL_POINTER,
                "block_sparse: mask_block_idx is NULL with mask_block_cnt set");
  if (!sparse.full_block_cnt != !sparse.full_block_idx)
    return fail(FA4_ERROR_NULL_POINTER,
                "block_sparse: full_block_cnt and full_block_idx must both be "
                "given or both be NULL");
  struct {
    const char *name;
    const int32_t *ptr;
  } lists[] = {{"block_sparse: mask_block_cnt", sparse.mask_block_cnt},
               {"block_sparse: mask_block_idx", sparse.mask_block_idx},
               {"block_sparse: full_block_cnt", sparse.full_block_cnt},
               {"block_sparse: full_block_idx", sparse.full_block_idx}};
  for (const auto &list : lists)
    if (fa4_status s = checkAligned(list.ptr, 4, list.name); s != FA4_SUCCESS)
      return s;
  if (sparse.heads != 1 && sparse.heads != nheads)
    return fail(FA4_ERROR_INVALID_SHAPE,
                format("block_sparse: heads must be 1 or nheads_q (%lld), "
                       "got %lld",
                       static_cast<long long>(nheads),
                       static_cast<long long>(sparse.heads)));
  if (sparse.block_m < 1 || sparse.block_n < 1)
    return fail(FA4_ERROR_INVALID_SHAPE,
                format("block_sparse: block sizes must be positive, got "
                       "(%lld, %lld)",
                       static_cast<long long>(sparse.block_m),
                       static_cast<long long>(sparse.block_n)));
  if (sparse.block_m > kMaxListValue || sparse.block_n > kMaxListValue)
    return fail(FA4_ERROR_OVERFLOW, "block_sparse: block sizes must be < 2^31");
  int64_t needed = (maxSeqlenQ + sparse.block_m - 1) / sparse.block_m;
  if (sparse.m_blocks < needed || sparse.m_blocks > kMaxListValue)
    return fail(FA4_ERROR_INVALID_SHAPE,
                format("block_sparse: m_blocks (%lld) must cover the %lld "
                       "query blocks of %lld rows (and be < 2^31)",
                       static_cast<long long>(sparse.m_blocks),
                       static_cast<long long>(needed),
                       static_cast<long long>(sparse.block_m)));
  if (sparse.mask_capacity < 1 ||
      (sparse.full_block_cnt && sparse.full_capacity < 1))
    return fail(FA4_ERROR_INVALID_SHAPE,
                format("block_sparse: list capacities must be positive, got "
                       "mask %lld, full %lld",
                       static_cast<long long>(sparse.mask_capacity),
                       static_cast<long long>(sparse.full_capacity)));
  mods.sparse = sparse;
  if (!sparse.full_block_cnt)
    mods.sparse.full_capacity = 0;
  return FA4_SUCCESS;
}

fa4_status fa4::rt::setBlockSparseArgs(const ScoreMods &mods, Launch &launch) {
  if (!mods.blockSparse)
    return FA4_SUCCESS;
  const fa4_block_sparse &sparse = mods.sparse;
  const KernelInfo &kernel = *launch.kernel;
  auto tileM = kernel.config.find("tile_m"),
       tileN = kernel.config.find("tile_n");
  if (tileM == kernel.config.end() || tileN == kernel.config.end())
    return fail(
        FA4_ERROR_NO_KERNEL,
        format("kernel %s states no tile_m / tile_n", kernel.name.c_str()));
  if (sparse.block_m % tileM->second != 0 ||
      sparse.block_n % tileN->second != 0)
    return fail(FA4_ERROR_INVALID_ARGUMENT,
                format("block_sparse: block sizes (%lld, %lld) must be "
                       "multiples of the kernel's tile (%lld, %lld) (%s)",
                       static_cast<long long>(sparse.block_m),
                       static_cast<long long>(sparse.block_n),
                       static_cast<long long>(tileM->second),
                       static_cast<long long>(tileN->second),
                       kernel.name.c_str()));
  int64_t tiles = sparse.block_n / tileN->second;
  int64_t capacity = std::max(sparse.mask_capacity, sparse.full_capacity);
  if (capacity > kMaxListValue / tiles / 2)
    return fail(FA4_ERROR_OVERFLOW,
                format("block_sparse: capacity x key tiles per block (%lld x "
                       "%lld) must be < 2^30",
                       static_cast<long long>(capacity),
                       static_cast<long long>(tiles)));
  KernelArgs &args = launch.args;
  // No full lists: the mask list's pointers stand in (never read, the
  // capacity 0 makes every full count 0).
  bool full = sparse.full_block_cnt != nullptr;
  args.setPtr("mask_block_cnt", sparse.mask_block_cnt);
  args.setPtr("mask_block_idx", sparse.mask_block_idx);
  args.setPtr("full_block_cnt",
              full ? sparse.full_block_cnt : sparse.mask_block_cnt);
  args.setPtr("full_block_idx",
              full ? sparse.full_block_idx : sparse.mask_block_idx);
  args.setI32("sparse_heads", static_cast<int32_t>(sparse.heads));
  args.setI32("sparse_m_blocks", static_cast<int32_t>(sparse.m_blocks));
  args.setI32("mask_block_capacity",
              static_cast<int32_t>(sparse.mask_capacity));
  args.setI32("full_block_capacity",
              static_cast<int32_t>(full ? sparse.full_capacity : 0));
  args.setI32("sparse_block_rows", static_cast<int32_t>(sparse.block_m));
  args.setI32("sparse_block_tiles", static_cast<int32_t>(tiles));
  return FA4_SUCCESS;
}

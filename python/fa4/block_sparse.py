"""Block-sparse attention lists (FlashAttention-4's BlockSparseTensors).

    bs = BlockSparseTensors(mask_block_cnt, mask_block_idx,
                            full_block_cnt, full_block_idx, block_size=(128, 128))
    out = flash_attn_func(q, k, v, causal=True, block_sparse_tensors=bs)

For every (batch entry, head, sparse q-block i), query rows [i * block_m,
(i + 1) * block_m) visit the key blocks the two lists name: the first
mask_block_cnt[b, h, i] entries of mask_block_idx[b, h, i] (the call's element
masks apply: causal, the key limit) and the first full_block_cnt[b, h, i] of
full_block_idx[b, h, i] (no element mask beyond the key limit). Key block j is
keys [j * block_n, (j + 1) * block_n). A key no list names is masked; a q-block
with no listed block gets out = 0 and lse = -inf. heads is 1 (one pattern for
every head) or nheads. The kernel's tile must divide the block sizes (128 x 128
always works).

`BlockSparseTensors.from_masks(mask_blocks, full_blocks)` builds the lists
from boolean (batch, heads, m_blocks, n_blocks) block maps on the device.

Construction checks what the kernel cannot: shapes and dtypes, and, once, the
values (one device synchronization): counts within [0, capacity], listed
entries non-negative, no key block named twice in one row (it would be counted
twice). A container is meant to be made once and reused across calls.
"""

__all__ = ["BlockSparseTensors"]

_FIELDS = ("mask_block_cnt", "mask_block_idx", "full_block_cnt", "full_block_idx")


class BlockSparseTensors:
    """The four int32 tensors and the sparse block size (block_m, block_n).

    mask_block_cnt (batch, heads, m_blocks); mask_block_idx (batch, heads,
    m_blocks, capacity); full_block_cnt / full_block_idx likewise or both None.
    Iterates like the tuple of the four tensors. check=False skips the value
    checks (and their synchronization): then a bad count or entry is clamped by
    the kernel, never read outside the lists, but the result is unspecified.
    """

    __slots__ = _FIELDS + ("block_size",)

    def __init__(self, mask_block_cnt, mask_block_idx, full_block_cnt=None,
                 full_block_idx=None, block_size=(128, 128), *, check=True):
        import torch
        if (full_block_cnt is None) != (full_block_idx is None):
            raise ValueError("full_block_cnt and full_block_idx must both be given or both "
                             "be None")
        if (not isinstance(block_size, (tuple, list)) or len(block_size) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool)
                           for x in block_size)):
            raise TypeError(f"block_size must be a pair of ints, got {block_size!r}")
        block_size = (int(block_size[0]), int(block_size[1]))
        if min(block_size) < 1:
            raise ValueError(f"block_size must be positive, got {block_size}")
        if mask_block_cnt is None or mask_block_idx is None:
            raise TypeError("mask_block_cnt and mask_block_idx are required (tensors)")
        given = [(name, t) for name, t in zip(
            _FIELDS, (mask_block_cnt, mask_block_idx, full_block_cnt, full_block_idx))
            if t is not None]
        # Types, then dtypes, then devices: the first problem of each kind.
        for name, t in given:
            if not isinstance(t, torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        for name, t in given:
            if t.dtype != torch.int32:
                raise ValueError(f"{name} must be int32, got {t.dtype}")
        for name, t in given:
            if not t.is_cuda:
                raise ValueError(f"{name} must be on a CUDA device, got {t.device}")
            if t.device != mask_block_cnt.device:
                raise ValueError(f"{name} is on {t.device}, mask_block_cnt on "
                                 f"{mask_block_cnt.device}")
        for cnt_name, cnt, idx_name, idx in (("mask_block_cnt", mask_block_cnt,
                                              "mask_block_idx", mask_block_idx),
                                             ("full_block_cnt", full_block_cnt,
                                              "full_block_idx", full_block_idx)):
            if cnt is None:
                continue
            if cnt.dim() != 3:
                raise ValueError(f"{cnt_name} must be (batch, heads, m_blocks), got shape "
                                 f"{tuple(cnt.shape)}")
            if idx.dim() != 4 or idx.shape[:3] != cnt.shape or idx.shape[3] < 1:
                raise ValueError(f"{idx_name} must be {tuple(cnt.shape)} + (capacity >= 1,), "
                                 f"got shape {tuple(idx.shape)}")
            if cnt.shape != mask_block_cnt.shape:
                raise ValueError(f"{cnt_name} {tuple(cnt.shape)} and mask_block_cnt "
                                 f"{tuple(mask_block_cnt.shape)} must have one shape")
        # The kernels read them contiguous (a copy only when they are not).
        self.mask_block_cnt = mask_block_cnt.contiguous()
        self.mask_block_idx = mask_block_idx.contiguous()
        self.full_block_cnt = full_block_cnt.contiguous() if full_block_cnt is not None else None
        self.full_block_idx = full_block_idx.contiguous() if full_block_idx is not None else None
        self.block_size = block_size
        if check:
            self._check_values(torch)

    @classmethod
    def from_masks(cls, mask_blocks, full_blocks=None, block_size=(128, 128)):
        """The lists from boolean block maps (batch, heads, m_blocks,
        n_blocks): True in `mask_blocks` lists a key block in the mask list,
        True in `full_blocks` in the full list (a block True in both is a
        mask block). Each row lists its blocks from the last to the first,
        the kernels' own visit order; the capacity is n_blocks. Runs on the
        device with no synchronization (the lists are valid by
        construction)."""
        import torch
        for name, t in (("mask_blocks", mask_blocks), ("full_blocks", full_blocks)):
            if t is None:
                continue
            if not isinstance(t, torch.Tensor) or t.dtype != torch.bool or t.dim() != 4:
                raise ValueError(f"{name} must be a bool tensor (batch, heads, m_blocks, "
                                 f"n_blocks), got {getattr(t, 'dtype', type(t).__name__)} "
                                 f"{tuple(getattr(t, 'shape', ()))}")
        if full_blocks is not None and full_blocks.shape != mask_blocks.shape:
            raise ValueError(f"full_blocks {tuple(full_blocks.shape)} and mask_blocks "
                             f"{tuple(mask_blocks.shape)} must have one shape")

        def lists(blocks):
            columns = torch.arange(blocks.shape[-1], device=blocks.device, dtype=torch.int32)
            keys = torch.where(blocks, columns, torch.full_like(columns, -1))
            idx = keys.sort(dim=-1, descending=True).values.clamp_(min=0).contiguous()
            return blocks.sum(dim=-1, dtype=torch.int32), idx

        mask_cnt, mask_idx = lists(mask_blocks)
        full = (None, None) if full_blocks is None else lists(full_blocks & ~mask_blocks)
        return cls(mask_cnt, mask_idx, *full, block_size=block_size, check=False)

    def _check_values(self, torch):
        """Counts in [0, capacity], listed entries >= 0, no key block twice
        in a row (over both lists): one synchronization."""
        rows = []
        problems = []
        for name, cnt, idx in (("mask", self.mask_block_cnt, self.mask_block_idx),
                               ("full", self.full_block_cnt, self.full_block_idx)):
            if cnt is None:
                continue
            capacity = idx.shape[3]
            bad_count = ((cnt < 0) | (cnt > capacity)).any()
            listed = torch.arange(capacity, device=idx.device) < cnt.unsqueeze(-1)
            bad_entry = ((idx < 0) & listed).any()
            problems += [bad_count, bad_entry]
            rows.append(torch.where(listed, idx, -1))
        entries = torch.cat(rows, dim=-1)
        flat = entries.flatten(0, 2)
        ordered = flat.sort(dim=-1).values
        twice = ((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).any()
        flags = torch.stack(problems + [twice]).tolist()
        messages = []
        for i, name in enumerate(n for n in ("mask", "full")
                                 if getattr(self, n + "_block_cnt") is not None):
            if flags[2 * i]:
                messages.append(f"{name}_block_cnt has a count outside [0, capacity]")
            if flags[2 * i + 1]:
                messages.append(f"{name}_block_idx lists a negative key block")
        if flags[-1]:
            messages.append("a key block is listed twice in one (batch, head, q-block) row "
                            "(over both lists)")
        if messages:
            raise ValueError("block_sparse_tensors: " + "; ".join(messages))

    def __iter__(self):
        return iter((self.mask_block_cnt, self.mask_block_idx, self.full_block_cnt,
                     self.full_block_idx))

    def __repr__(self):
        if not hasattr(self, "block_size"):  # raised in __init__
            return "BlockSparseTensors(<incomplete>)"
        shape = tuple(self.mask_block_cnt.shape)
        full = "none" if self.full_block_cnt is None else tuple(self.full_block_idx.shape)
        return (f"BlockSparseTensors(counts {shape}, mask capacity "
                f"{self.mask_block_idx.shape[3]}, full {full}, block_size {self.block_size})")

    def operator_args(self, device, batch, nheads, seqlen_q):
        """The checks against a call (device, batch, heads, q-blocks), then
        the op arguments: (mask_cnt, mask_idx, full_cnt, full_idx, block_m,
        block_n)."""
        cnt = self.mask_block_cnt
        if cnt.device != device:
            raise ValueError(f"block_sparse_tensors are on {cnt.device}, q on {device}")
        b, heads, m_blocks = cnt.shape
        if b != batch:
            raise ValueError(f"block_sparse_tensors have batch {b}, the call {batch}")
        if heads not in (1, nheads):
            raise ValueError(f"block_sparse_tensors have {heads} heads; 1 or nheads "
                             f"({nheads}) needed")
        block_m, block_n = self.block_size
        needed = -(-seqlen_q // block_m)
        if m_blocks < needed:
            raise ValueError(f"block_sparse_tensors have {m_blocks} q-blocks; {seqlen_q} "
                             f"query rows in blocks of {block_m} need {needed}")
        return (self.mask_block_cnt, self.mask_block_idx, self.full_block_cnt,
                self.full_block_idx, block_m, block_n)


def operator_args(block_sparse_tensors, device, batch, nheads, seqlen_q, *, dropout_p,
                  window_size, softcap, alibi_slopes, learnable_sink, load_path="auto"):
    """() without lists; else the checked op arguments of a call (see
    BlockSparseTensors.operator_args). Block-sparse kernels are built plain
    and causal: with a window, softcap, ALiBi, sinks or dropout the call is
    refused by name (NotImplementedError), as is the TMA load path."""
    if block_sparse_tensors is None:
        return ()
    if not isinstance(block_sparse_tensors, BlockSparseTensors):
        raise TypeError("block_sparse_tensors must be a fa4.BlockSparseTensors, got "
                        f"{type(block_sparse_tensors).__name__}")
    from . import _checks
    for what, present in (("dropout", float(dropout_p) > 0),
                          ("a window", tuple(window_size) != (-1, -1)),
                          ("softcap", bool(softcap)),
                          ("alibi_slopes", alibi_slopes is not None),
                          ("learnable_sink", learnable_sink is not None),
                          ('load_path="tma"', load_path == "tma")):
        if present:
            _checks.not_built(f"block_sparse_tensors with {what} (block-sparse kernels are "
                              "built plain and causal, on the cp.async path)")
    return block_sparse_tensors.operator_args(device, batch, nheads, seqlen_q)

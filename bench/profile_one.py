"""Runs one fa4 forward (for Nsight Compute): d, causal and FA4_KERNEL from the
command line, e.g.  ncu --kernel-name regex:fa4 python3 bench/profile_one.py 128 0"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4  # noqa: E402

d, causal = int(sys.argv[1]), bool(int(sys.argv[2]))
s = 4096
q, k, v = (torch.randn(4, s, 2048 // d, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
fa4.flash_attn_func(q, k, v, causal=causal)
torch.cuda.synchronize()

"""Checks a pinned kernel configuration on the GPU with the SPEC's rule.

The kernels come from tools/make-variant.sh (one folder per dtype, head dim
and causal flag); the runtime loads them through FA4_KERNEL_PATH and is
forced to them by name with FA4_KERNEL, so a call either runs the variant or
fails. Covers ragged lengths, Sq != Sk both ways, an empty key range, MHA and
GQA, LSE.

    PYTHONPATH=python FA4_LIBRARY=... python3 python/tests/check_variant.py DEST NAME [--load-path tma]
"""

import argparse
import glob
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("dest")
parser.add_argument("name")
parser.add_argument("--load-path", default="auto", choices=["auto", "tma", "cp_async"])
args = parser.parse_args()
folders = sorted(glob.glob(os.path.join(args.dest, "*_*")))
if not folders:
    sys.exit(f"no variant folders under {args.dest}")
os.environ["FA4_KERNEL_PATH"] = ":".join(folders)
os.environ["FA4_KERNEL"] = args.name

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import fa4  # noqa: E402
from reference import check  # noqa: E402

torch.manual_seed(0)
passed = failed = 0
worst = 0.0
for dtype in (torch.bfloat16, torch.float16):
    for d in (64, 96, 128):
        for causal in (False, True):
            for sq, sk in ((1, 1), (113, 203), (256, 256), (1000, 777), (128, 1100), (239, 0)):
                for hq, hk in ((4, 4), (8, 2)):
                    q = torch.randn(2, sq, hq, d, device="cuda", dtype=dtype)
                    k = torch.randn(2, sk, hk, d, device="cuda", dtype=dtype)
                    v = torch.randn(2, sk, hk, d, device="cuda", dtype=dtype)
                    try:
                        out, lse = fa4.flash_attn_func(q, k, v, causal=causal, return_lse=True,
                                                       load_path=args.load_path)
                        torch.cuda.synchronize()
                        worst = max(worst, check(out, lse, q, k, v, causal)["err"])
                        passed += 1
                    except Exception as e:  # report every failing configuration
                        failed += 1
                        print(f"FAIL {dtype} d={d} causal={causal} sq={sq} sk={sk} "
                              f"heads={hq}/{hk}: {str(e)[:200]}")
print(f"{args.name}: {passed} passed, {failed} failed, worst max|out - ref32| = {worst:.3e}")
sys.exit(1 if failed else 0)

"""Dropout across two builds of the runtime (bench/RESULTS.md, run 59): run
once per library (FA4_LIBRARY), the first with --save, the second with
--compare. Each run draws the same inputs and torch seeds, calls
flash_attn_func with p = 0.1 on d = 64/96/128, causal or not, and times
fa4 at p = 0 and 0.1 beside FlashAttention-2 (SDPA FLASH) with and without
dropout. --compare checks every output bit for bit against the saved one
(SHA-256 of the bf16 bits; a change of the kernels' form must not change
the keying) and prints the
timing table of both runs side by side.

    FA4_LIBRARY=old.so python3 bench/compare_dropout_libs.py --save /tmp/old.pt
    FA4_LIBRARY=new.so python3 bench/compare_dropout_libs.py --compare /tmp/old.pt
"""
import argparse
import hashlib
import os
import sys

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

if "PYTHONPATH" not in os.environ:  # the old library runs with its own Python
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4  # noqa: E402
from timing import timed  # noqa: E402


def call(q, k, v, p, causal):
    torch.manual_seed(1234)
    return fa4.flash_attn_func(q, k, v, p, causal=causal)


def run():
    rows, outputs = [], {}
    for d in (64, 96, 128):
        for causal in (False, True):
            for s in (1024, 4096, 8192):
                batch, heads = 16384 // s * 2, 2048 // d
                g = torch.Generator(device="cuda").manual_seed(d * 100 + s + causal)
                q, k, v = (torch.randn(batch, s, heads, d, device="cuda", dtype=torch.bfloat16,
                                       generator=g) for _ in range(3))
                key = f"d{d}_c{int(causal)}_s{s}"
                out = call(q, k, v, 0.1, causal)
                outputs[key] = hashlib.sha256(out.view(torch.int16).cpu().numpy().tobytes()).hexdigest()
                t = {"fa4 p=0": timed(lambda: call(q, k, v, 0.0, causal)),
                     "fa4 p=0.1": timed(lambda: call(q, k, v, 0.1, causal))}
                qt, kt, vt = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
                sdpa = torch.nn.functional.scaled_dot_product_attention
                with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                    t["FA2 p=0"] = timed(lambda: sdpa(qt, kt, vt, is_causal=causal))
                    t["FA2 p=0.1"] = timed(lambda: sdpa(qt, kt, vt, dropout_p=0.1,
                                                        is_causal=causal))
                rows.append(dict(key=key, d=d, causal=causal, s=s, **t))
                print(key, {n: round(ms, 4) for n, ms in t.items()}, flush=True)
    return rows, outputs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--save")
    ap.add_argument("--compare")
    a = ap.parse_args()
    print(torch.cuda.get_device_name(), os.environ.get("FA4_LIBRARY"), flush=True)
    rows, outputs = run()
    if a.save:
        torch.save({"rows": rows, "outputs": outputs}, a.save)
        return 0
    old = torch.load(a.compare)
    bad = [k for k in outputs if outputs[k] != old["outputs"][k]]
    print("| d | causal | s | fa4 p=0 old/new | fa4 p=0.1 old/new | old/new | overhead old | "
          "overhead new | FA2 p=0 | FA2 p=0.1 | FA2 overhead |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r, o in zip(rows, old["rows"]):
        print(f"| {r['d']} | {int(r['causal'])} | {r['s']} | {o['fa4 p=0']:.3f}/{r['fa4 p=0']:.3f} | "
              f"{o['fa4 p=0.1']:.3f}/{r['fa4 p=0.1']:.3f} | {o['fa4 p=0.1'] / r['fa4 p=0.1']:.3f} | "
              f"{o['fa4 p=0.1'] / o['fa4 p=0']:.3f} | {r['fa4 p=0.1'] / r['fa4 p=0']:.3f} | "
              f"{r['FA2 p=0']:.3f} | {r['FA2 p=0.1']:.3f} | {r['FA2 p=0.1'] / r['FA2 p=0']:.3f} |")
    print("outputs bit-identical old/new:", "all" if not bad else f"NOT for {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""Window kernels across two builds of the runtime (branch
wip/window-two-copies: the cp.async schedule visits both masked window
edges in one loop, so the body is cloned twice instead of three times).
Run once per library (FA4_LIBRARY), the first with --save, the second with
--compare. Each run draws the same inputs, calls flash_attn_func on the
cp.async path with windows that have both edges masked, plain and with
softcap + ALiBi + dropout (the switchable kernels), and times each call.
--compare prints both runs' times side by side and the largest difference
between the two outputs: the visit order of the key blocks changed, so the
outputs agree to rounding, not bit for bit (with dropout too: the keep
bits are keyed by position, not by visit order).

    FA4_LIBRARY=old.so python3 bench/compare_window_libs.py --save /tmp/old.pt
    FA4_LIBRARY=new.so python3 bench/compare_window_libs.py --compare /tmp/old.pt
"""
import argparse
import os
import sys

import torch
import triton.testing

if "PYTHONPATH" not in os.environ:  # the old library runs with its own Python
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4  # noqa: E402


def timed(fn):
    fn()
    torch.cuda.synchronize()
    return triton.testing.do_bench(fn, warmup=25, rep=100, return_mode="median")


CASES = [  # (d, s, window, causal, modifications)
    (d, s, window, causal, mods)
    for d in (64, 96, 128)
    for s in (2048, 8192)
    for window, causal in (((512, 0), False), ((1024, 1024), False), ((256, 256), False))
    for mods in (False, True)
]


def run():
    rows, outputs = [], {}
    for d, s, window, causal, mods in CASES:
        batch, heads = 16384 // s, 2048 // d
        g = torch.Generator(device="cuda").manual_seed(d * 100 + s + window[0])
        q, k, v = (torch.randn(batch, s, heads, d, device="cuda", dtype=torch.bfloat16,
                               generator=g) for _ in range(3))
        kwargs = dict(window_size=window, causal=causal, load_path="cp_async")
        if mods:
            slopes = torch.rand(heads, device="cuda", generator=g) * 0.1
            kwargs.update(softcap=30.0, alibi_slopes=slopes, dropout_p=0.1)

        def call():
            torch.manual_seed(1234)
            return fa4.flash_attn_func(q, k, v, **kwargs)

        key = f"d{d}_s{s}_w{window[0]}-{window[1]}_c{int(causal)}_m{int(mods)}"
        outputs[key] = call().float().cpu()
        ms = timed(call)
        rows.append(dict(key=key, ms=ms))
        print(key, round(ms, 4), flush=True)
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
    print("| case | old ms | new ms | old/new | max abs diff |")
    print("|---|---|---|---|---|")
    worst = 0.0
    for r, o in zip(rows, old["rows"]):
        diff = (outputs[r["key"]] - old["outputs"][r["key"]]).abs().max().item()
        worst = max(worst, diff)
        print(f"| {r['key']} | {o['ms']:.3f} | {r['ms']:.3f} | {o['ms'] / r['ms']:.3f} | "
              f"{diff:.2e} |")
    print(f"largest output difference old/new: {worst:.2e}")
    return 0 if worst <= 2e-2 else 1


if __name__ == "__main__":
    sys.exit(main())

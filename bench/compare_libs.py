"""One case set across two builds of the runtime, to time a kernel change.
Each run (one library, FA4_LIBRARY) draws the same inputs, times each call
and saves times and outputs. Run each library more than once, alternating,
so that drift hits both; --report prints the best time of each library's
runs side by side and the largest difference between the two libraries'
outputs (each case's first sequence); each library's runs must agree bit
for bit (SHA-256 of the whole output), and with --tolerance 0 the two
libraries' whole outputs too.

Case sets (--cases):
  windows       flash_attn_func on the cp.async path with windows that have
                both edges masked, plain and with softcap + ALiBi + dropout
                (the switchable kernels); written for the two-copy window
                schedule, whose new visit order agrees to rounding.
  varlen-causal flash_attn_varlen_func, causal, ragged lengths, plain and
                with dropout; written for the causal varlen grid order
                (min(m_blocks, gridDim.x) - 1 - x), which with honest
                max_seqlen_q visits the same m-blocks: outputs bit-identical.

    FA4_LIBRARY=old.so python3 bench/compare_libs.py --cases C --save /tmp/old1.pt
    FA4_LIBRARY=new.so python3 bench/compare_libs.py --cases C --save /tmp/new1.pt
    (again, to /tmp/old2.pt and /tmp/new2.pt)
    python3 bench/compare_libs.py [--tolerance 0] --report /tmp/old1.pt,/tmp/old2.pt \
        /tmp/new1.pt,/tmp/new2.pt
"""
import argparse
import hashlib
import os
import sys

import torch

if "PYTHONPATH" not in os.environ:  # the old library runs with its own Python
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4  # noqa: E402
from timing import timed  # noqa: E402


WINDOW_CASES = [  # (d, s, window, causal, modifications)
    (d, s, window, causal, mods)
    for d in (64, 96, 128)
    for s in (2048, 8192)
    for window, causal in (((512, 0), False), ((1024, 1024), False), ((256, 256), False))
    for mods in (False, True)
]


def window_call(d, s, window, causal, mods):
    batch, heads = 65536 // s, 2048 // d
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
    return key, call, lambda out: out[0]


VARLEN_CASES = [(d, s, p) for d in (64, 96, 128) for s in (1024, 4096) for p in (0.0, 0.1)]


def varlen_call(d, s, p):
    """65536 tokens in sequences of mean length s (0.5 s to 1.5 s), 16 query
    heads over 4 KV heads (GQA 4)."""
    g = torch.Generator(device="cpu").manual_seed(d * 100 + s)
    lengths, total = [], 0
    while total < 65536:
        n = min(int(s * (0.5 + torch.rand(1, generator=g).item())), 65536 - total)
        lengths.append(n)
        total += n
    heads = 16
    cu = torch.tensor([0] + lengths, device="cuda", dtype=torch.int32).cumsum(0, dtype=torch.int32)
    gc = torch.Generator(device="cuda").manual_seed(d + s)
    q = torch.randn(total, heads, d, device="cuda", dtype=torch.bfloat16, generator=gc)
    k, v = (torch.randn(total, heads // 4, d, device="cuda", dtype=torch.bfloat16, generator=gc)
            for _ in range(2))

    def call():
        torch.manual_seed(1234)
        return fa4.flash_attn_varlen_func(q, k, v, cu, cu, max(lengths), max(lengths),
                                          dropout_p=p, causal=True)

    return f"d{d}_s{s}_p{p}", call, lambda out: out[:lengths[0]]


CASE_SETS = {"windows": (WINDOW_CASES, window_call),
             "varlen-causal": (VARLEN_CASES, varlen_call)}


def run(name):
    cases, make = CASE_SETS[name]
    rows, outputs = [], {}
    for case in cases:
        key, call, first = make(*case)
        out = call()
        # The first sequence, for the difference between libraries; a hash
        # of the whole output, for the runs of one library.
        digest = hashlib.sha256(out.contiguous().view(torch.uint8).cpu().numpy()).hexdigest()
        outputs[key] = (first(out).cpu(), digest)
        ms = timed(call)
        rows.append(dict(key=key, ms=ms))
        print(key, round(ms, 4), flush=True)
    return rows, outputs


def report(old_paths, new_paths, tolerance):
    olds = [torch.load(p) for p in old_paths.split(",")]
    news = [torch.load(p) for p in new_paths.split(",")]
    best = lambda runs, i: min(r["rows"][i]["ms"] for r in runs)  # noqa: E731
    print(f"best of {len(olds)} old and {len(news)} new runs, alternating")
    print("| case | old ms | new ms | old/new | max abs diff |")
    print("|---|---|---|---|---|")
    worst = 0.0
    for i, row in enumerate(news[0]["rows"]):
        key = row["key"]
        assert all(r["rows"][i]["key"] == key for r in olds + news), key
        diff = (news[0]["outputs"][key][0].float() -
                olds[0]["outputs"][key][0].float()).abs().max().item()
        for runs in (olds, news):  # each library's runs agree bit for bit
            for r in runs[1:]:
                assert r["outputs"][key][1] == runs[0]["outputs"][key][1], key
        if tolerance == 0:  # bit-identical: the whole outputs, not the first sequence
            assert news[0]["outputs"][key][1] == olds[0]["outputs"][key][1], \
                f"{key}: the libraries' outputs differ (SHA-256)"
        worst = max(worst, diff)
        o, n = best(olds, i), best(news, i)
        print(f"| {key} | {o:.3f} | {n:.3f} | {o / n:.3f} | {diff:.2e} |")
    print(f"largest output difference old/new: {worst:.2e}")
    return 0 if worst <= tolerance else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--save")
    ap.add_argument("--cases", choices=sorted(CASE_SETS), default="windows")
    ap.add_argument("--tolerance", type=float, default=2e-2,
                    help="largest output difference --report accepts (0: bit-identical)")
    ap.add_argument("--report", nargs=2, metavar=("OLD[,OLD]", "NEW[,NEW]"))
    a = ap.parse_args()
    if bool(a.save) == bool(a.report):
        ap.error("give one of --save PATH or --report OLD NEW")
    if a.report:
        return report(*a.report, a.tolerance)
    print(torch.cuda.get_device_name(), os.environ.get("FA4_LIBRARY"), flush=True)
    rows, outputs = run(a.cases)
    torch.save({"rows": rows, "outputs": outputs}, a.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmarks' timer: one warm-up call, a synchronize, then
triton.testing.do_bench's median over CUDA events (25 ms warm-up, 100 ms
of repetitions), in ms. Imported as `from timing import timed` by the
scripts in bench/ (run as `python3 bench/<script>.py`, so bench/ is on
sys.path)."""
import torch
import triton.testing


def timed(fn):
    fn()
    torch.cuda.synchronize()
    return triton.testing.do_bench(fn, warmup=25, rep=100, return_mode="median")

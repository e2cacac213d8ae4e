"""fa4._ops (the torch operators) when a torch with torch.library.custom_op
(2.4 or later) imports, else None and the reason. `import fa4` works either
way: the argument checks, the ctypes binding and `python -m fa4` need no
torch; a launch does."""

try:
    from . import _ops as ops
    reason = None
except ImportError as error:  # no torch, or one older than 2.4
    ops, reason = None, error


def missing_ops():
    """Raises the ImportError that explains why the entry points cannot
    launch."""
    raise ImportError(f"fa4's entry points need torch >= 2.4: {reason}")

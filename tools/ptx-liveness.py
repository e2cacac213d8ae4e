#!/usr/bin/env python3
#===- tools/ptx-liveness.py - register pressure of a PTX kernel, in order --===#
#
# Live 32-bit register words at each instruction of a PTX kernel, in the
# order the PTX lists them: a backward liveness analysis over the kernel's
# basic blocks (labels and branches), counting a %rd register as two words
# and predicates as none. It prints the peak and, per basic block of more
# than 20 instructions, its length, its peak and its live-in words.
#
# This is the pressure the PTX asks for, not what ptxas allocates: ptxas
# schedules again and may raise or lower it. Use it to compare two versions
# of one kernel, and read ptxas -v for the verdict.
#
#   python3 tools/ptx-liveness.py KERNEL.ptx [--block LABEL [--every N]]
#                                            [--live-in LABEL]
#
# --block prints the live words at every N-th instruction of one block;
# --live-in lists the block's live-in registers with their definitions.
#
#===----------------------------------------------------------------------===#
import argparse
import re
import sys

REGISTER = re.compile(r"%(?:rd|r|p|rs|f|fd)\d+")
NO_DESTINATION = ("st.", "bar", "bra", "cp.async", "ret", "red.", "atom",
                  "mbarrier.arrive", "mbarrier.init", "fence", "griddep",
                  "setmaxnreg")


def words(register):
    """32-bit words a register takes: %rd and %fd two, predicates none."""
    if register.startswith(("%rd", "%fd")):
        return 2
    return 0 if register.startswith("%p") else 1


def instructions(text):
    """The body's instructions and labels, one string each (multi-line
    instructions joined)."""
    out, pending, inside = [], "", False
    for line in text.split("\n"):
        s = line.strip()
        if s == "{":
            inside = True
            continue
        if not inside:
            continue
        if s == "}":
            inside = False
            continue
        if pending:
            pending += " " + s
            if s.endswith(";"):
                out.append(pending)
                pending = ""
            continue
        if not s or s.startswith(("//", ".reg", ".shared", ".local")):
            continue
        if s.startswith("$L") and s.endswith(":"):
            out.append(s)
        elif not s.endswith(";"):
            pending = s
        else:
            out.append(s)
    return out


def defs_and_uses(instruction):
    """(defined, used) registers of one instruction."""
    m = re.match(r"(@!?%p\d+\s+)?([a-z][\w.]*)\s*(.*);", instruction)
    if not m:
        return [], []
    predicate = REGISTER.findall(m.group(1) or "")
    opcode, operands = m.group(2), m.group(3)
    if opcode.startswith(NO_DESTINATION):
        return [], REGISTER.findall(operands) + predicate
    if operands.startswith("{"):
        destination = operands[:operands.index("}") + 1]
    else:
        destination = operands.split(",")[0]
    rest = operands[len(destination):]
    return REGISTER.findall(destination), REGISTER.findall(rest) + predicate


def basic_blocks(body):
    """Blocks as dicts: label, instructions, successor indices."""
    blocks, labels, current = [], {}, None
    for s in body:
        if s.endswith(":"):
            current = {"label": s[:-1], "ins": []}
            labels[current["label"]] = len(blocks)
            blocks.append(current)
            continue
        if current is None:
            current = {"label": "entry", "ins": []}
            blocks.append(current)
        current["ins"].append(s)
        if re.match(r"(@!?%p\d+\s+)?bra", s) or s.startswith("ret"):
            current = {"label": None, "ins": []}
            blocks.append(current)
    for i, b in enumerate(blocks):
        last = b["ins"][-1] if b["ins"] else ""
        m = re.match(r"(@!?%p\d+\s+)?bra(?:\.uni)?\s+(\S+);", last)
        b["succ"] = []
        if m:
            b["succ"].append(labels[m.group(2)])
            if m.group(1) and i + 1 < len(blocks):
                b["succ"].append(i + 1)
        elif not last.startswith("ret") and i + 1 < len(blocks):
            b["succ"].append(i + 1)
        b["du"] = [defs_and_uses(s) for s in b["ins"]]
    return blocks


def liveness(blocks):
    """Fills each block's live-in and live-out sets."""
    for b in blocks:
        use, defined = set(), set()
        for d, u in b["du"]:
            use |= {x for x in u if x not in defined}
            defined |= set(d)
        b["use"], b["def"], b["in"], b["out"] = use, defined, set(), set()
    changed = True
    while changed:
        changed = False
        for b in reversed(blocks):
            out = set().union(*(blocks[s]["in"] for s in b["succ"]))
            live_in = b["use"] | (out - b["def"])
            if out != b["out"] or live_in != b["in"]:
                b["out"], b["in"], changed = out, live_in, True


def profile(block):
    """[(index, live words before the instruction)] of one block."""
    live, rows = set(block["out"]), []
    for k in range(len(block["ins"]) - 1, -1, -1):
        d, u = block["du"][k]
        live = (live - set(d)) | set(u)
        rows.append((k, sum(words(x) for x in live)))
    return list(reversed(rows))


def main():
    parser = argparse.ArgumentParser(
        description="Live 32-bit register words of a PTX kernel, in PTX order.")
    parser.add_argument("ptx")
    parser.add_argument("--block")
    parser.add_argument("--every", type=int, default=25)
    parser.add_argument("--live-in")
    args = parser.parse_args()
    blocks = basic_blocks(instructions(open(args.ptx).read()))
    liveness(blocks)
    peak, where = 0, None
    for b in blocks:
        for k, c in profile(b):
            if c > peak:
                peak, where = c, (b["label"], k, b["ins"][k][:60])
    print(f"peak: {peak} live 32-bit words, at {where}")
    print("block, instructions, peak words, live-in words")
    for b in blocks:
        if len(b["ins"]) > 20:
            print(b["label"], len(b["ins"]), max(c for _, c in profile(b)),
                  sum(words(x) for x in b["in"]))
    for b in blocks:
        if args.block and b["label"] == args.block:
            for k, c in profile(b):
                if k % args.every == 0:
                    print(k, c, b["ins"][k][:60])
        if args.live_in and b["label"] == args.live_in:
            definitions = {}
            for other in blocks:
                for s, (d, _) in zip(other["ins"], other["du"]):
                    for x in d:
                        definitions.setdefault(x, s[:70])
            for x in sorted(b["in"]):
                print(x, words(x), definitions.get(x, "(parameter)"))


if __name__ == "__main__":
    sys.exit(main())

"""Summarise a py-spy raw (collapsed) profile: top functions by self and by inclusive share.

usage: profile_summary.py profile.txt [TOP]   (record with --threads; shares are per thread)
"""

from __future__ import annotations

import collections
import re
import sys


def main() -> None:
    path, top = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20
    per_thread: dict[str, int] = collections.Counter()
    self_t: dict[tuple[str, str], int] = collections.Counter()
    incl: dict[tuple[str, str], int] = collections.Counter()
    for line in open(path, encoding="utf-8"):
        stack, _, count_s = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        count = int(count_s)
        frames = stack.split(";")
        thread = frames[0] if frames[0].startswith(("thread", "process")) else "main"
        frames = [f for f in frames if not f.startswith(("thread", "process"))]
        per_thread[thread] += count
        if not frames:
            continue
        name = lambda f: re.sub(r":\d+\)$", ")", f)  # noqa: E731 (merge lines of a function)
        self_t[(thread, name(frames[-1]))] += count
        for f in set(map(name, frames)):
            incl[(thread, f)] += count
    total = sum(per_thread.values())
    print(f"samples: {total}")
    for thread, n in per_thread.most_common():
        print(f"\n== {thread}: {n} samples ({100 * n / total:.0f} %)")
        print("-- self (leaf) share of this thread")
        for (t, f), c in sorted(self_t.items(), key=lambda kv: -kv[1]):
            if t == thread and c * 200 >= n:
                print(f"{100 * c / n:5.1f} %  {f}")
        print("-- inclusive share of this thread (top)")
        rows = [(c, f) for (t, f), c in incl.items() if t == thread]
        for c, f in sorted(rows, reverse=True)[:top]:
            print(f"{100 * c / n:5.1f} %  {f}")


if __name__ == "__main__":
    main()

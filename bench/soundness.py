"""Soundness of `check` against an independent oracle, on every generated claim.

    python bench/soundness.py            # every case (about 2,000; a few minutes)
    python bench/soundness.py --quick    # the test's four networks only

The claims are the engine's own equations in every shipped notation, the catalogue's
equations (matrix forms and updates among them), and mutations of both (tests/soundness.py); each is checked as a user would (`check_text`) and each reading
judged by a forward pass in mpmath at random points (tests/oracle.py). Prints the confusion
table (what the oracle says against the verdict), the false verdicts, the share decided
correctly, and the cases not decided with the reason.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from soundness import NETWORKS, QUICK, cases, catalogue_cases, check  # noqa: E402  the tests' generator

VERDICTS = ("proved", "refuted", "ambiguous", "undecided", "rejected", "crashed")
ORACLE = ("true", "false", "none", "mixed", "unclear")


def main(argv: list[str]) -> int:
    networks = QUICK if "--quick" in argv else NETWORKS
    start = time.perf_counter()
    generated = list(cases(networks=networks)) + list(catalogue_cases(networks[:6]))
    # the cases are independent: one process per core, results in input order
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        judged = pool.map(check, generated, chunksize=8)
    seconds = time.perf_counter() - start
    table = Counter((j.oracle, j.verdict) for j in judged)
    print(f"{len(judged)} claims on {len(networks)} networks, every shipped notation and the "
          f"catalogue's, {seconds:.0f} s")
    print("oracle \\ verdict " + "".join(f"{v:>11}" for v in VERDICTS))
    for o in ORACLE:
        print(f"{o:<17}" + "".join(f"{table[(o, v)]:>11}" for v in VERDICTS))
    false_proved = [j for j in judged if j.false_proved]
    false_refuted = [j for j in judged if j.false_refuted]
    correct = sum(j.correct for j in judged)
    print(f"false proved: {len(false_proved)}   false refuted: {len(false_refuted)}   "
          f"decided correctly: {correct}/{len(judged)} = {100 * correct / len(judged):.1f}%")
    kinds = Counter(j.case.kind for j in judged)
    right = Counter(j.case.kind for j in judged if j.correct)
    print("by kind: " + ", ".join(f"{k} {right[k]}/{n}" for k, n in sorted(kinds.items())))
    for j in false_proved + false_refuted + [j for j in judged if not j.correct][:20]:
        print(f"  {j.verdict:<9} {j.case.notation:<10} {j.case.kind:<24} {j.case.latex}  "
              f"[{j.note[:120]}]")
    # a mutation of a true equation: one mistake made (of a false one, two)
    truth = {(j.case.notation, str(j.case.network), j.case.latex): j.oracle for j in judged
             if j.case.kind in ("engine", "catalogue")}
    mistaken = [j for j in judged if j.expected_mistake and j.verdict == "refuted"
                and truth.get((j.case.notation, str(j.case.network), j.case.base)) == "true"]
    named = Counter("the mutation's" if j.mistake == j.expected_mistake else
                    "another (proved equal)" if j.mistake else "none" for j in mistaken)
    print(f"diagnoses of the {len(mistaken)} refuted mutations of true equations that are a "
          "named mistake: "
          + ", ".join(f"{k} {v} ({100 * v / max(len(mistaken), 1):.1f}%)"
                      for k, v in named.most_common()))
    offered = Counter(j.right for j in judged if j.right)
    print("right equations offered: " + ", ".join(f"oracle {k} {v}" for k, v in offered.items()))
    for j in [j for j in mistaken if j.mistake != j.expected_mistake][:10]:
        print(f"  {j.mistake or 'none':<28} {j.case.notation:<10} {j.case.kind:<24} {j.case.latex}")
    crashed = [j for j in judged if j.verdict == "crashed"]
    wrong_right = offered.get("differ", 0)
    return 1 if false_proved or false_refuted or crashed or wrong_right else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""The export stage's parity gate at several sizes, on a finished ``crossrank fit`` run.

    python bench/bench_fit_gate.py --out /tmp/fit-sci-new --lists 24 100

For each size it builds the gate's lists as ``fit`` does (that many seeded dev queries, the chosen first stage's
top ``GATE_DEPTH``), exports the run's model to a temporary folder with int8 (fp32 when int8 is refused) and prints
whether the int8 file passed, the MAP of torch and of the int8 file on those lists, the Spearman correlation and
the seconds the export took. Nothing is written to the run's folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import quiet  # noqa: E402
from bench_fit_fusion import inputs, stage  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--lists", type=int, nargs="+", default=[24, 100])
    p.add_argument("--seed", type=int, default=42, help="the run's --seed (fit's default 42)")
    args = p.parse_args()
    quiet()
    import crossrank.fit.export as export

    collection, split, first, _ = inputs(args.out)
    _, train_dir = stage(args.out, "train")
    run = first["runs"][first["chosen"]]
    print("| gate lists | int8 | torch MAP | int8 MAP | drop | Spearman | export s |")
    print("|---|---|---|---|---|---|---|")
    for n in args.lists:
        export.GATE_LISTS = n
        check = export.gate_lists(collection, split["dev"], run, args.seed)
        began = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            payload = export.export_model(train_dir / "model", Path(folder), "int8", check)
        seconds = time.perf_counter() - began
        int8 = [r for r in payload.get("reports", []) if r.get("quantized")]
        if int8:
            m = int8[0]["metrics"]
            print(f"| {len(check)} | passed | {m['torch']['map']:.4f} | {m['onnx']['map']:.4f} | "
                  f"{m['torch']['map'] - m['onnx']['map']:+.4f} | {int8[0]['spearman']:.4f} | {seconds:.0f} |")
        else:
            print(f"| {len(check)} | refused: {payload.get('int8_refused')} | | | | | {seconds:.0f} |")


if __name__ == "__main__":
    main()

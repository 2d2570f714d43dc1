"""Train shipped configs and tabulate what they reach: the README's results table comes from this script.

    python benchmarks/learning_results.py                      # every config in configs/, seed 0
    python benchmarks/learning_results.py tmaze tmaze_ppo --seeds 0 1 2
    python benchmarks/learning_results.py --out benchmarks/results/learning.md

Each run goes through the same code as ``recurrent-rl train`` (runs are written under a temporary folder
unless --runs-dir is given), then the saved model is evaluated on fresh episodes with ``evaluate_saved``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch

from recurrent_rl.artifacts.saved_run import locate
from recurrent_rl.config.loader import load_config
from recurrent_rl.evaluation.saved import evaluate_saved
from recurrent_rl.training.train import train

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def run(name: str, seed: int, runs_dir: Path, episodes: int) -> dict[str, object]:
    loaded = load_config(CONFIGS / f"{name}.yaml", [f"train.seed={seed}", f"logging.runs_dir={runs_dir}"])
    started = time.perf_counter()
    outcome = train(loaded, command=f"benchmarks/learning_results.py {name} --seeds {seed}")
    elapsed = time.perf_counter() - started
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    result = evaluate_saved(locate(outcome.run_dir), episodes=episodes)
    return {
        "config": name,
        "env": loaded.config.env.id,
        "algo": f"{loaded.config.algo.name} / {loaded.config.policy.type}"
        + (f" + frame_stack {loaded.config.env.frame_stack}" if loaded.config.env.frame_stack else ""),
        "seed": seed,
        "status": summary["status"],
        "timesteps": summary["total_timesteps"],
        "minutes": elapsed / 60,
        "fps": summary["fps"],
        "mean_return": result.mean_return,
        "std_return": result.std_return,
        "success_rate": result.success_rate,
    }


def table(rows: list[dict[str, object]], episodes: int) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}, 1 torch thread; evaluation of the final model on {episodes} fresh "
        "episodes (deterministic, LSTM state reset between episodes).",
        "",
        "| config | env | algorithm / policy | seed | steps | minutes | steps/s "
        "| return (mean ± std) | success |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        success = "–" if row["success_rate"] is None else f"{row['success_rate']:.2f}"
        lines.append(
            f"| `{row['config']}` | `{row['env']}` | {row['algo']} | {row['seed']} | {row['timesteps']:,} "
            f"({row['status']}) | {row['minutes']:.1f} | {row['fps']:,.0f} | "
            f"{row['mean_return']:.3f} ± {row['std_return']:.3f} | {success} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("configs", nargs="*", help="config names in configs/ (default: all)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--runs-dir", type=Path)
    parser.add_argument("--out", type=Path, help="also write the markdown table here")
    args = parser.parse_args()
    names = args.configs or sorted(path.stem for path in CONFIGS.glob("*.yaml"))
    runs_dir = args.runs_dir or Path(tempfile.mkdtemp(prefix="learning-results-"))
    rows = []
    for name in names:
        for seed in args.seeds:
            rows.append(run(name, seed, runs_dir, args.episodes))
            print(table(rows[-1:], args.episodes).splitlines()[-1], flush=True)
    text = table(rows, args.episodes)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()

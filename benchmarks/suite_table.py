"""The README's results table, from a finished suite sweep (every shipped config x 5 seeds)::

    recurrent-rl sweep configs/sweeps/suite.yaml                    # 70 runs; the same command resumes it
    python benchmarks/suite_table.py [runs/sweeps/suite] [--out benchmarks/results/suite.md]

One row per config. The final mean return and, where the env defines success, the final success rate are
each the IQM over seeds with its 95% stratified-bootstrap interval, computed by ``recurrent-rl report``'s
code (:func:`recurrent_rl.experiments.report.build`). Also shown: the median steps trained, the seeds that
reached ``train.stop_at`` with their median steps, and the median minutes per run (one torch thread, the
other core running another training).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recurrent_rl.artifacts.records import RunSummary, read_summary  # noqa: E402
from recurrent_rl.experiments.plan import read_index  # noqa: E402
from recurrent_rl.experiments.report import GroupReport, build  # noqa: E402
from recurrent_rl.experiments.results import collect  # noqa: E402


def _estimate(g: GroupReport, digits: int) -> str:
    return f"{g.iqm.value:.{digits}f} [{g.iqm.low:.{digits}f}, {g.iqm.high:.{digits}f}]"


def _stop(g: GroupReport) -> str:
    if g.steps_to_target is None:
        return "–"
    reached = [steps for steps in g.steps_to_target if steps is not None]
    median = f" ({statistics.median(reached) / 1000:,.0f}k)" if reached else ""
    return f"{len(reached)}/{len(g.steps_to_target)}{median}"


def row(config_dir: Path) -> str:
    returns = build([config_dir], "mean_return").groups[0]
    success = build([config_dir], "success_rate").groups[0] if _has_success(returns) else None
    cfg = returns.group.cfg
    summaries = [_summary(run.run_dir) for run in returns.group.runs]
    steps = statistics.median(summary.total_timesteps for summary in summaries)
    minutes = statistics.median(summary.wall_time_s or 0.0 for summary in summaries) / 60
    policy = cfg.policy.type + (f" + frame_stack {cfg.env.frame_stack}" if cfg.env.frame_stack else "")
    sb3 = cfg.algo.name == "recurrent_ppo" and cfg.algo.implementation == "sb3"
    implementation = " (sb3-contrib)" if sb3 else ""
    digits = 3 if abs(returns.iqm.value) < 10 else 1
    cells = [
        f"`{config_dir.name}`",
        f"`{cfg.env.id}`",
        f"{cfg.algo.name}{implementation} / {policy}",
        str(len(returns.values)),
        f"{steps / 1000:,.0f}k",
        _estimate(returns, digits),
        "–" if success is None else _estimate(success, 2),
        _stop(returns),
        f"{minutes:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def _has_success(g: GroupReport) -> bool:
    return all(run.final is not None and run.final.success_rate is not None for run in g.group.runs)


def _summary(run_dir: Path) -> RunSummary:
    summary = read_summary(run_dir)
    assert summary is not None, f"{run_dir}: a finished run without summary.json"
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", nargs="?", type=Path, default=Path("runs/sweeps/suite"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    configs = list(dict.fromkeys(entry["config"] for entry in read_index(args.sweep)))
    unfinished = [run for run in collect([args.sweep]) if not run.usable]
    lines = [
        "| config | env | algorithm / policy | seeds | steps (median) | final return, IQM [95% CI] "
        "| final success, IQM [95% CI] | seeds at stop_at (median steps) | minutes per run |",
        "|---|---|---|---|---|---|---|---|---|",
        *(row(args.sweep / name) for name in configs),
    ]
    if unfinished:
        lines.append(f"\nNot counted: {', '.join(str(run.run_dir) for run in unfinished)}")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"# Results of {args.sweep} (benchmarks/suite_table.py)\n\n" + text)


if __name__ == "__main__":
    main()

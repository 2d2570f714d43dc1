"""``recurrent-rl report`` statistics checked against hand-computed values, on run folders written by hand.

IQM is the 25%-trimmed mean over seeds; intervals are rliable's stratified-bootstrap percentile intervals;
the probability of improvement counts the pairs of seeds (ties half).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from rliable import metrics

from recurrent_rl.artifacts import records
from recurrent_rl.artifacts.records import EvalRecord, RunSummary
from recurrent_rl.cli import main
from recurrent_rl.config.loader import load_config
from recurrent_rl.errors import UserError
from recurrent_rl.experiments import plots, report, stats
from recurrent_rl.experiments.markdown import as_markdown
from tests.helpers.cli import tiny_config

History = list[tuple[int, float]]


@pytest.fixture
def few_reps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer bootstrap repetitions where the test checks no interval (rliable's IQM costs ~1 ms a sample)."""
    monkeypatch.setattr(stats, "REPS", 200)


def make_run(
    folder: Path,
    name: str,
    seed: int,
    history: History,
    *,
    algo: str = "recurrent_ppo",
    final: float | None = None,
    status: str = "completed",
    sets: tuple[str, ...] = (),
    success: bool = True,
) -> Path:
    """A run folder of experiment ``folder.name``: config.yaml, evaluations.json, summary.json."""
    source = folder.parent / "source.yaml"
    source.write_text(tiny_config())
    policy = "MlpLstmPolicy" if algo == "recurrent_ppo" else "MlpPolicy"
    overrides = [f"algo.name={algo}", f"policy.type={policy}", f"train.seed={seed}", *sets]
    loaded = load_config(source, [*overrides, f"logging.experiment={folder.name}"])
    run_dir = folder / name
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(loaded.resolved_yaml())

    def record(timesteps: int, value: float) -> EvalRecord:
        rate = value if success else None
        return EvalRecord(
            timesteps=timesteps, mean_return=2 * value - 1, std_return=0.0, success_rate=rate, n_episodes=10
        )

    records.write_history(run_dir, [record(t, v) for t, v in history])
    last = history[-1][0]
    final_record = record(last, final) if final is not None else None
    records.write_summary(run_dir, RunSummary(status=status, total_timesteps=last, final_eval=final_record))  # type: ignore[arg-type]
    return run_dir


def experiment(root: Path, name: str, finals: list[float], **kwargs: object) -> Path:
    """One run per seed, each evaluated at 1000 and 2000 steps, its final evaluation ``finals[seed]``."""
    folder = root / name
    for seed, value in enumerate(finals):
        make_run(folder, f"seed{seed}", seed, [(1000, 0.0), (2000, value)], final=value, **kwargs)  # type: ignore[arg-type]
    return folder


def group(built: report.Report, config: str) -> report.GroupReport:
    return next(g for g in built.groups if g.group.config == config)


def test_iqm_interval_mean_std_and_seed_values(tmp_path: Path) -> None:
    lstm = experiment(tmp_path, "lstm", [0.8, 0.2, 0.6, 0.4])
    ppo = experiment(tmp_path, "ppo", [0.0, 1.0, 0.0, 1.0], algo="ppo")
    solved = experiment(tmp_path, "solved", [1.0, 1.0, 1.0])
    built = report.build([lstm, ppo, solved])
    assert built.metric == "success_rate"

    g = group(built, "lstm")
    assert g.seeds == [0, 1, 2, 3] and g.values == [0.8, 0.2, 0.6, 0.4]
    assert g.iqm.value == pytest.approx(0.5)  # 4 seeds: the middle two, (0.4 + 0.6) / 2
    assert g.mean == pytest.approx(0.5) and g.std == pytest.approx(math.sqrt(0.05))  # (0.09+0.01)*2/4
    # resamples with >= 3 copies of 0.2 have IQM 0.2: P = (1 + 4 * 3) / 4**4 = 5.1% > 2.5%; 0.8 likewise
    assert (g.iqm.low, g.iqm.high) == pytest.approx((0.2, 0.8))

    g = group(built, "ppo")  # resamples of {0, 1}: IQM 0 when >= 3 zeros (5/16 > 2.5%), 1 likewise
    assert (g.iqm.value, g.iqm.low, g.iqm.high) == pytest.approx((0.5, 0.0, 1.0))
    g = group(built, "solved")
    assert (g.iqm.value, g.iqm.low, g.iqm.high) == pytest.approx((1.0, 1.0, 1.0))
    assert g.bound == 0.5  # TMaze's memoryless success rate


def test_intervals_do_not_depend_on_what_ran_before() -> None:
    """rliable resamples with NumPy's global generator: an estimate must not follow its state."""
    values = [350.4, 282.2, 67.2, 311.8, 428.6]
    first = stats.iqm(values)
    np.random.seed(123)
    assert stats.iqm(values) == first and stats.iqm(values) == first
    pair = stats.probability_of_improvement(values, [1.0, 300.0, 2.0])
    assert stats.probability_of_improvement(values, [1.0, 300.0, 2.0]) == pair
    before = np.random.get_state()[1].copy()
    stats.iqm(values)
    assert (np.random.get_state()[1] == before).all()  # the caller's generator is left as it was


def test_curve_iqm_is_rliables_aggregate_iqm_per_timestep() -> None:
    scores = np.random.default_rng(0).random((7, 1, 5))
    expected = [metrics.aggregate_iqm(scores[:, :, t]) for t in range(5)]
    assert stats.interquartile_means(scores) == pytest.approx(expected)


def test_probability_of_improvement_pairs_recurrent_with_memoryless_on_the_same_env(
    tmp_path: Path, few_reps: None
) -> None:
    lstm = experiment(tmp_path, "lstm", [0.6, 0.7, 0.8, 0.9])
    ppo = experiment(tmp_path, "ppo", [0.5, 0.5, 0.5, 0.8], algo="ppo")
    other = experiment(tmp_path, "ppo_long", [0.5], algo="ppo", sets=("env.kwargs.corridor_length=9",))
    built = report.build([lstm, ppo, other])
    assert len(built.improvements) == 1  # ppo_long is another env: no pair
    pair = built.improvements[0]
    assert (pair.recurrent.group.config, pair.memoryless.group.config) == ("lstm", "ppo")
    # x > y in 3*4 pairs with y = 0.5; against 0.8: 0.9 wins, 0.8 ties (half): 13.5 / 16
    assert pair.estimate.value == pytest.approx(13.5 / 16)
    assert pair.estimate.low <= pair.estimate.value <= pair.estimate.high <= 1.0


def test_steps_to_stop_at_and_the_curve_with_early_stopped_runs(tmp_path: Path) -> None:
    folder = tmp_path / "lstm"
    stop = ("train.stop_at={success_rate: 0.9}",)
    histories: list[History] = [
        [(1000, 0.5), (2000, 0.95)],  # stopped early: its 0.95 stands at 3000
        [(1000, 0.2), (2000, 0.5), (3000, 0.9)],
        [(1000, 0.1), (2000, 0.3), (3000, 0.6)],
    ]
    for seed, history in enumerate(histories):
        make_run(folder, f"seed{seed}", seed, history, final=history[-1][1], sets=stop)
    built = report.build([folder])
    g = built.groups[0]
    assert g.steps_to_target == [2000, 3000, None]
    assert "2,500 (2/3)" in as_markdown(built, [])  # median of the seeds that reached it
    curve = g.curve
    assert curve is not None and curve.carried
    assert list(curve.timesteps) == [1000, 2000, 3000]
    # 3 seeds: the 25%-trimmed mean cuts nothing, so the IQM is the mean
    assert list(curve.iqm) == pytest.approx([0.8 / 3, 1.75 / 3, 2.45 / 3])
    assert all(curve.low <= curve.iqm) and all(curve.iqm <= curve.high)


def test_final_metric_unfinished_runs_and_metric_choice(tmp_path: Path, few_reps: None) -> None:
    folder = tmp_path / "lstm"
    make_run(folder, "a", 0, [(1000, 0.2), (2000, 0.7)], final=0.9)  # the final evaluation counts
    make_run(folder, "b", 1, [(1000, 0.2), (2000, 0.7)])  # no final evaluation: the last record
    make_run(folder, "c", 2, [(1000, 0.3)], status="interrupted")
    built = report.build([folder])
    g = built.groups[0]
    assert g.values == [0.9, 0.7] and [run.run_dir.name for run in g.group.excluded] == ["c"]
    assert "`" + str(folder / "c") + "`: interrupted" in as_markdown(built, [])
    assert report.build([folder], "mean_return").groups[0].values == pytest.approx([0.8, 0.4])

    returns = tmp_path / "returns"
    make_run(returns, "a", 0, [(1000, 0.5)], final=0.5, success=False)
    assert report.build([returns]).metric == "mean_return"
    with pytest.raises(UserError, match="--metric success_rate"):
        report.build([returns], "success_rate")


def test_groups_outside_a_sweep_and_their_plots(tmp_path: Path, few_reps: None) -> None:
    folder = tmp_path / "tmaze"
    for seed in (0, 1):
        for rate, value in (("0.001", 0.9), ("0.0003", 0.6)):
            history = [(1000, 0.5), (2000, value)]
            make_run(
                folder, f"lr{rate}-{seed}", seed, history, final=value, sets=(f"algo.learning_rate={rate}",)
            )
    ppo = experiment(tmp_path, "tmaze_ppo", [0.5, 0.5], algo="ppo")
    built = report.build([folder, ppo])
    labels = [(g.group.config, g.group.point) for g in built.groups]
    assert labels == [  # the keys that tell runs of one experiment apart
        ("tmaze", (("algo.learning_rate", 0.0003),)),
        ("tmaze", (("algo.learning_rate", 0.001),)),
        ("tmaze_ppo", ()),
    ]
    figures = plots.figures(built)
    assert set(figures) == {"curves.png", "final.png"}  # tmaze_ppo has no learning-rate point: no horizon
    final = figures["final.png"].axes
    ticks = ["tmaze (learning_rate=0.0003)", "tmaze (learning_rate=0.001)", "tmaze_ppo"]
    assert [t.get_text() for t in final[0].get_yticklabels()] == ticks
    assert [t.get_text() for t in final[1].get_yticklabels()] == [f"{tick} > tmaze_ppo" for tick in ticks[:2]]

    only_lstm = report.build([folder])
    figures = plots.figures(only_lstm)
    assert set(figures) == {"curves.png", "final.png", "horizon.png"}
    horizon = figures["horizon.png"].axes[0]
    assert [t.get_text() for t in horizon.get_legend().get_texts()] == ["tmaze", "memoryless bound (0.5)"]
    assert horizon.get_xlabel() == "algo.learning_rate" and "success rate" in horizon.get_ylabel()
    curves = figures["curves.png"]
    assert sorted(ax.get_title() for ax in curves.axes if ax.get_visible()) == [
        "learning_rate=0.0003",
        "learning_rate=0.001",
    ]
    assert all(ax.get_xlabel() == "training timesteps" for ax in curves.axes if ax.get_visible())


def test_report_command_json_and_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, few_reps: None
) -> None:
    lstm = experiment(tmp_path, "lstm", [1.0, 0.9])
    run = lstm / "seed0"
    monkeypatch.chdir(tmp_path)
    assert (
        main(["report", str(lstm), str(run), "--json", "--out", "out"]) == 0
    )  # a run given twice counts once
    printed = json.loads(capsys.readouterr().out)
    assert printed["groups"][0]["seeds"] == [0, 1] and printed["groups"][0]["values"] == [1.0, 0.9]
    assert printed == json.loads((tmp_path / "out" / "report.json").read_text())
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "report.md",
        "report.json",
        "curves.png",
        "final.png",
    }

    for argv, fragment in (
        (["report", "nowhere", "--out", "bad"], "report: nowhere: not a sweep folder"),
        (["report", str(tmp_path / "out"), "--out", "bad"], "not a sweep folder"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("recurrent-rl: error:") == 1 and fragment in err, err
        assert not (tmp_path / "bad").exists()


def test_resumed_runs_are_named_with_their_checkpoints(tmp_path: Path, few_reps: None) -> None:
    """A resumed run drew fresh random numbers from its checkpoint on: the report says which and where."""
    folder = tmp_path / "lstm"
    make_run(folder, "a", 0, [(1000, 0.5), (2000, 0.9)], final=0.9)
    resumed = make_run(folder, "b", 1, [(1000, 0.5), (2000, 0.8)], final=0.8)
    summary = records.read_summary(resumed)
    assert summary is not None
    records.write_summary(resumed, summary.model_copy(update={"resumed_at": [1024, 1536]}))
    built = report.build([folder])
    text = as_markdown(built, [])
    assert "Resumed (1 runs" in text and f"`{resumed}`: at 1,024, 1,536 timesteps" in text
    assert str(folder / "a") + "`: at" not in text
    assert report.as_json(built)["groups"][0]["resumed"] == {str(resumed): [1024, 1536]}


def test_max_mean_return_is_each_runs_best_evaluation(tmp_path: Path, few_reps: None) -> None:
    """``--metric max_mean_return`` (POPGym's MMER): a run's highest mean return over its evaluations and
    its final one, not its final one alone."""
    folder = tmp_path / "popgym"
    histories = [[(1000, 0.9), (2000, 0.2)], [(1000, 0.1), (2000, 0.3)], [(1000, 0.5), (2000, 0.5)]]
    finals = [0.4, 0.8, 0.5]
    for seed, (history, final) in enumerate(zip(histories, finals, strict=True)):
        make_run(folder, f"seed{seed}", seed, history, final=final, success=False)
    built = report.build([folder], "max_mean_return")
    mean_returns = [2 * v - 1 for v in (0.9, 0.8, 0.5)]  # make_run's records: mean_return = 2 * value - 1
    assert built.metric == "max_mean_return"
    assert group(built, "popgym").values == pytest.approx(mean_returns)
    final = report.build([folder], "mean_return")
    assert group(final, "popgym").values == pytest.approx([2 * v - 1 for v in finals])
    assert "max mean return (MMER)" in as_markdown(built, [])

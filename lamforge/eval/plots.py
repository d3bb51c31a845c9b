"""The report's figures, drawn with matplotlib's Agg backend.

Each function takes already-ordered, already-validated data from `lamforge.eval.report`, writes
one PNG and returns nothing; deciding whether a figure can be drawn (and saying why not) is the
report's job, so these stay small and free of input checks. The backend is chosen when the first
figure is drawn, not when lamforge is imported, so `lamforge --help` never pays for matplotlib.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DPI = 100
# colour-blind-safe (Okabe-Ito); the same model keeps its colour in every figure
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "axes.spines.top": False,
                         "axes.spines.right": False})
    return plt


def colours(models: list[str]) -> dict[str, str]:
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(models)}


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", facecolor="white")
    plt.close(fig)


def _grouped_bars(ax: Any, groups: list[str], models: list[str],
                  value: dict[tuple[str, str], float], colour: dict[str, str],
                  labels: dict[tuple[str, str], str] | None = None) -> None:
    """Bars of `value[(model, group)]` (a fraction), one cluster per group; absent pairs leave a gap."""
    width = 0.8 / max(1, len(models))
    for i, m in enumerate(models):
        present = [(g, grp) for g, grp in enumerate(groups) if (m, grp) in value]
        xs = [g + (i - (len(models) - 1) / 2) * width for g, _ in present]
        bars = ax.bar(xs, [value[(m, grp)] * 100 for _, grp in present], width * 0.92, label=m,
                      color=colour[m])
        if labels is not None:
            ax.bar_label(bars, [labels.get((m, grp), "") for _, grp in present], padding=2,
                         fontsize=8)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylim(0, 109)
    ax.set_ylabel("%")
    ax.grid(axis="y", alpha=0.3)


def offline_by_phase(path: Path, splits: list[str], models: list[str],
                     step: dict[tuple[str, str], float], task: dict[tuple[str, str], float]) -> None:
    """Step and task success side by side: the paper's point is that the two diverge (a model can
    get most steps right and still finish few tasks), so they share one y scale."""
    plt = _pyplot()
    colour = colours(models)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    for ax, values, title in ((axes[0], step, "step success"), (axes[1], task, "task success")):
        pct = {k: f"{v:.0%}" for k, v in values.items()} if len(models) * len(splits) <= 12 else None
        _grouped_bars(ax, splits, models, values, colour, pct)
        ax.set_title(f"Offline {title} by split")
        ax.set_xlabel("split")
    axes[1].legend(title="model", loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    _save(fig, path)


def online_by_model(path: Path, splits: list[str], models: list[str],
                    rate: dict[tuple[str, str], float], label: dict[tuple[str, str], str]) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    _grouped_bars(ax, splits, models, rate, colours(models), label)
    ax.set_title("Online task success by model and split")
    ax.set_xlabel("split")
    ax.legend(title="model", loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    _save(fig, path)


def latency(path: Path, models: list[str], step_ms: dict[str, list[float]]) -> bool:
    """A box plot per model; returns whether the y axis is logarithmic (chosen when the slowest
    step is more than 20 times the fastest, where a linear axis squashes the fast models)."""
    plt = _pyplot()
    colour = colours(models)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    data = [step_ms[m] for m in models]
    box = ax.boxplot(data, patch_artist=True, showfliers=True, widths=0.5)
    ax.set_xticks(range(1, len(models) + 1), [f"{m}\n({len(step_ms[m])} steps)" for m in models])
    for patch, m in zip(box["boxes"], models, strict=True):
        patch.set_facecolor(colour[m])
        patch.set_alpha(0.75)
    values = [v for vs in data for v in vs if v > 0]
    log = bool(values) and max(values) / min(values) > 20
    if log:
        ax.set_yscale("log")
    ax.set_ylabel("ms per step" + (" (log scale)" if log else ""))
    ax.set_title("Per-step latency (observe + model + act)")
    ax.grid(axis="y", alpha=0.3, which="both" if log else "major")
    _save(fig, path)
    return log


def success_by_family(path: Path, families: list[str], models: list[str],
                      counts: dict[tuple[str, str], tuple[int, int]]) -> None:
    """Horizontal bars, the most frequent family on top; `counts[(model, family)]` is
    (passed, tasks) and the bar is labelled with it, so a 100% of one task is not over-read."""
    plt = _pyplot()
    colour = colours(models)
    height = 0.8 / max(1, len(models))
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.32 * len(families) * max(1, len(models)) + 1)))
    for i, m in enumerate(models):
        present = [(f, counts[(m, fam)]) for f, fam in enumerate(families)
                   if counts.get((m, fam), (0, 0))[1] > 0]
        ys = [f + (i - (len(models) - 1) / 2) * height for f, _ in present]
        bars = ax.barh(ys, [p / n * 100 for _, (p, n) in present], height * 0.92, label=m,
                       color=colour[m])
        ax.bar_label(bars, [f"{p}/{n}" for _, (p, n) in present], padding=2, fontsize=7)
    ax.set_yticks(range(len(families)), families)
    ax.invert_yaxis()
    ax.set_xlim(0, 112)
    ax.set_xlabel("online task success (%)")
    ax.set_title("Online success by task family")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(title="model", loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    _save(fig, path)


def episode_strip(path: Path, frames: list[tuple[Path, str]], title: str,
                  per_row: int = 4) -> None:
    """An episode as a strip of its screenshots, each under the step it follows."""
    import matplotlib.image as mpimg

    plt = _pyplot()
    rows = -(-len(frames) // per_row)
    fig, axes = plt.subplots(rows, per_row, figsize=(3.2 * per_row, 2.3 * rows + 0.4),
                             squeeze=False)
    for ax, (image, label) in zip(axes.flat, frames, strict=False):
        ax.imshow(mpimg.imread(image))
        ax.set_title(label, fontsize=8, loc="left")
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    _save(fig, path)

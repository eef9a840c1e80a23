"""Risk-of-bias plots: a traffic-light grid per tool and a summary bar chart.

Two habits of the usual plots mislead here and are avoided on purpose: "no information" gets
its own colour and letter instead of breaking the colour scale, and no overall column is added
for tools that define none (JBI, Murad). Unrated items are drawn as unrated (light grey, "?"),
and the summary's first bar shows how many of the studies in pooled analyses nobody has rated,
so a sparse assessment cannot look like a clean one. Each cell also carries a letter, so the
plot reads without colour.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, cast

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from postcart.evidence.risk_of_bias import Concern, RiskOfBias, Template

_META = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}
_RC = {"svg.hashsalt": "postcart", "svg.fonttype": "none", "font.family": "DejaVu Sans",
       "pdf.compression": 6}  # fmt: skip

#: (colour, letter, legend label) per category; "unrated" is not a concern, it is absence.
STYLE: dict[str, tuple[str, str, str]] = {
    Concern.low.value: ("#3a9e4f", "L", "Low concern"),
    Concern.some.value: ("#e7b416", "S", "Some concern / unclear"),
    Concern.high.value: ("#cc3232", "H", "High concern"),
    Concern.no_information.value: ("#7f8fa6", "NI", "No information"),
    Concern.not_applicable.value: ("#ffffff", "NA", "Not applicable"),
    "unmatched": ("#b07cc6", "≠", "Unmatched answers"),
    "unrated": ("#e3e3e3", "?", "Unrated"),
}
ORDER = tuple(STYLE)


def category(rob: RiskOfBias, template: Template, study: str, domain: str) -> str:
    """What a cell shows: the concern of the final judgement, or unmatched / unrated."""
    final = rob.final(study, domain)
    if final.status in ("unrated", "unmatched"):
        return final.status
    option = template.option(final.judgement or "")
    return "unrated" if option is None else option.concern.value


def traffic_light(
    rob: RiskOfBias, template: Template, studies: Sequence[tuple[str, str]]
) -> Figure:
    """Rows: studies assessed with ``template``; columns: its items; no overall column."""
    n_rows, n_cols = len(studies), len(template.domains)
    fig = Figure(figsize=(2.8 + 0.55 * n_cols, 1.9 + 0.42 * n_rows + 0.2 * n_cols))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for i, (key, _name) in enumerate(studies):
        for j, domain in enumerate(template.domains):
            colour, letter, _ = STYLE[category(rob, template, key, domain.key)]
            y = n_rows - 1 - i
            ax.scatter([j], [y], s=330, c=colour, edgecolors="#555555", linewidths=0.6)
            ax.annotate(letter, (j, y), ha="center", va="center", fontsize=7)
    ax.set_xticks(range(n_cols))
    ax.set_xticklabels([f"{j + 1}. {d.label}" for j, d in enumerate(template.domains)],
                       rotation=55, ha="right", fontsize=7)  # fmt: skip
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels([name for _, name in reversed(studies)], fontsize=7)
    ax.set_xlim(-0.6, n_cols - 0.4)
    ax.set_ylim(-0.6, n_rows - 0.4)
    ax.set_title(f"{template.name} (v{template.version}): item judgements", fontsize=9)
    ax.spines[["top", "right", "left", "bottom"]].set_visible(False)
    ax.tick_params(length=0)
    _legend(fig)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def _legend(fig: Figure) -> None:
    handles = [Patch(facecolor=c, edgecolor="#555555", label=f"{letter} {label}")
               for c, letter, label in STYLE.values()]  # fmt: skip
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=6, frameon=False)


#: Colour of the first summary bar's "rated" part (at least one item rated).
_RATED = "#9bbbd4"


def summary_rows(
    rob: RiskOfBias, templates: Sequence[Template], pooled_studies: Sequence[str]
) -> list[tuple[str, list[tuple[str, float]]]]:
    """(label, [(category, share 0–1)...]) per bar; the first bar counts unrated studies."""
    bars: list[tuple[str, list[tuple[str, float]]]] = []
    if pooled_studies:
        n = len(pooled_studies)
        rated = sum(rob.template_of(s) is not None for s in pooled_studies)
        bars.append((f"Studies in pooled analyses (n = {n}): rated at all?",
                     [("rated", rated / n), ("unrated", (n - rated) / n)]))  # fmt: skip
    for template in templates:
        keys = sorted({a.study for a in rob.answers if a.template == template.key})
        for j, domain in enumerate(template.domains):
            counts = dict.fromkeys(ORDER, 0)
            for key in keys:
                counts[category(rob, template, key, domain.key)] += 1
            bars.append((f"{template.name} {j + 1}. {domain.label} (n = {len(keys)})",
                         [(c, counts[c] / len(keys)) for c in ORDER]))  # fmt: skip
    return bars


def summary_bars(
    rob: RiskOfBias, templates: Sequence[Template], pooled_studies: Sequence[str]
) -> Figure:
    """Per item, the share of assessed studies in each category; first bar: who is unrated."""
    bars = summary_rows(rob, templates, pooled_studies)
    fig = Figure(figsize=(8.5, 1.8 + 0.3 * len(bars)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for i, (_label, parts) in enumerate(bars):
        y = len(bars) - 1 - i
        left = 0.0
        for cat, width in parts:
            if width > 0:
                colour = _RATED if cat == "rated" else STYLE[cat][0]
                ax.barh([y], [100 * width], left=[100 * left], color=colour,
                        edgecolor="#555555", linewidth=0.5)  # fmt: skip
                left += width
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels([label for label, _ in reversed(bars)], fontsize=7)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of studies (%)", fontsize=8)
    ax.set_title("Risk of bias: summary (no overall judgement is forced)", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    handles = [Patch(facecolor=_RATED, edgecolor="#555555", label="Rated (at least one item)")]
    handles += [Patch(facecolor=c, edgecolor="#555555", label=f"{letter} {label}")
                for c, letter, label in STYLE.values()]  # fmt: skip
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=6, frameon=False)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


def _bytes(fig: Figure) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for fmt in ("png", "svg", "pdf"):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=150, metadata=_META[fmt])
        out[fmt] = buffer.getvalue()
    return out


def render_risk_of_bias(
    rob: RiskOfBias, pooled_studies: Sequence[str], names: dict[str, str]
) -> dict[str, dict[str, bytes]]:
    """``rob_summary`` and one ``rob_traffic_<tool>`` per tool in use, as PNG/SVG/PDF bytes."""
    import matplotlib

    out: dict[str, dict[str, bytes]] = {}
    with matplotlib.rc_context(cast(Any, _RC)):
        used = [t for t in rob.templates if any(a.template == t.key for a in rob.answers)]
        out["rob_summary"] = _bytes(summary_bars(rob, used, pooled_studies))
        for template in used:
            keys = sorted({a.study for a in rob.answers if a.template == template.key})
            studies = [(k, names.get(k, k)) for k in keys]
            out[f"rob_traffic_{template.key}"] = _bytes(traffic_light(rob, template, studies))
    return out

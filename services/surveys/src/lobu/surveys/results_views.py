"""What the results pages show, built from the results (pure): charts, tables, text.

The pages print every figure twice, as a chart and as a table, so that a screen
reader, a printout and a copy into a spreadsheet all get the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lobu.surveys.charts import Chart, bar_chart, decimal_de, percent
from lobu.surveys.results_schemas import Comparison
from lobu.surveys.schemas import CHOICE_TYPES, QuestionSpec, QuestionType

TYPE_NAMES = {
    QuestionType.SINGLE: "Einfachauswahl",
    QuestionType.MULTIPLE: "Mehrfachauswahl",
    QuestionType.LIKERT: "Skala",
    QuestionType.NUMBER: "Zahl",
    QuestionType.TEXT: "Freitext",
}


@dataclass
class QuestionView:
    """One question on a results page."""

    key: str
    text: str
    type_name: str
    answered: int
    answered_text: str
    chart: Chart | None = None
    # (label, count, share as text) per option, in the questionnaire's order.
    table: list[tuple[str, int, str]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (name, value) of numbers
    answers: list[str] = field(default_factory=list)  # free text (admins only)
    note: str = ""


def _chart_title(question: QuestionSpec, respondents: int) -> str:
    kind = "Mehrfachnennungen möglich, " if question.type is QuestionType.MULTIPLE else ""
    return f"{question.text} ({kind}Anteil von {respondents} Antwortenden)"


def question_view(
    question: QuestionSpec, entry: dict[str, Any], *, respondents: int, with_extremes: bool
) -> QuestionView:
    """A question's results as the page shows them."""
    view = QuestionView(
        key=question.key, text=question.text, type_name=TYPE_NAMES[question.type],
        answered=entry["answered"],
        answered_text=f"{entry['answered']} von {respondents} haben geantwortet "
        f"({percent(entry['share_answered'])}).",
    )  # fmt: skip
    if question.type in CHOICE_TYPES:
        options = entry["options"]
        rows = [(o.label, [("", options[o.code]["share"])]) for o in question.options]
        view.chart = bar_chart(
            chart_id=f"diagramm-{question.key}", title=_chart_title(question, respondents),
            rows=rows,
        )  # fmt: skip
        view.table = [
            (o.label, options[o.code]["count"], percent(options[o.code]["share"]))
            for o in question.options
        ]
        if question.type is QuestionType.MULTIPLE:
            view.note = "Mehrfachnennungen möglich: Die Anteile ergeben zusammen mehr als 100 %."
        if question.type is QuestionType.LIKERT and entry.get("mean") is not None:
            first, last = question.options[0].label, question.options[-1].label
            view.note = (
                f"Mittelwert {decimal_de(entry['mean'], 2)} "
                f"(1 = {first} … {len(question.options)} = {last})."
            )
    elif question.type is QuestionType.NUMBER:
        names = [("median", "Median"), ("q1", "1. Quartil"), ("q3", "3. Quartil"),
                 ("mean", "Mittelwert")]  # fmt: skip
        if with_extremes:
            names += [("min", "Kleinster Wert"), ("max", "Größter Wert")]
        view.figures = [
            (label, decimal_de(entry.get(name), 2)) for name, label in names if name in entry
        ]
    else:
        view.answers = list(entry.get("answers", []))
    return view


def question_views(
    questions: Sequence[QuestionSpec],
    entries: dict[str, Any],
    *,
    respondents: int,
    with_extremes: bool = True,
) -> list[QuestionView]:
    """The views of all questions that have results, in the questionnaire's order."""
    return [
        question_view(q, entries[q.key], respondents=respondents, with_extremes=with_extremes)
        for q in questions
        if q.key in entries
    ]


@dataclass
class ComparedView:
    """One question of the year-over-year page."""

    key: str
    text: str
    chart: Chart
    # (label, [share text per year], change text, "only in …" note) per option.
    table: list[tuple[str, list[str], str, str]]


def _change(first: float | None, last: float | None) -> str:
    if first is None or last is None:
        return "–"
    points = float((Decimal(str(last)) - Decimal(str(first))) * 100)  # 0.4125 - 0.2 exactly
    return f"{'+' if points > 0 else '±' if points == 0 else '−'}{decimal_de(abs(points), 1)} Pkt."


def compared_views(comparison: Comparison) -> list[ComparedView]:
    """The comparison as charts (a bar per year) and tables (the years side by side)."""
    years = comparison.years
    views = []
    for key, question in comparison.questions.items():
        rows = [
            (question.labels[code], [(year, shares[year]) for year in years])
            for code, shares in question.options.items()
        ]
        chart = bar_chart(
            chart_id=f"vergleich-{key}",
            title=f"{question.text} (Anteil der Antwortenden, {' und '.join(years)})",
            rows=rows,
        )
        table = []
        for code, shares in question.options.items():
            missing = question.missing.get(code, [])
            asked = [year for year in years if year not in missing]
            note = f"nur {', '.join(asked)} gefragt" if missing else ""
            cells = [
                "nicht gefragt" if year in missing else percent(shares[year]) for year in years
            ]
            table.append(
                (question.labels[code], cells, _change(shares[years[0]], shares[years[-1]]), note)
            )
        views.append(ComparedView(key=key, text=question.text, chart=chart, table=table))
    return views

"""The Servicebüro's statistics of an edition: JSON, CSV for German Excel, a report page.

All three are for admins (the bearer token, as every admin route and the surveys'
results pages): they count registrations, which is no public matter. The report page
lives at `/aktionstag/{year}/statistik`; main.py includes this router before the
programme pages, whose `/aktionstag/{year}/{id}` would otherwise take the path.
"""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from lobu.events.page_support import render, state_of
from lobu.events.query_params import YearPath
from lobu.events.schemas import EditionStatistics, LandStatistics
from lobu.events.statistics import EditionFigures, LandFigures, Statistics, csv_rows, percent_de
from lobu.shared import AdminCaller, ServiceRouter
from lobu.shared.spreadsheet_csv import excel_csv_lines
from lobu.shared.web_sessions import AdminPage

router = ServiceRouter(tags=["statistics"])
PRIVATE = {"Cache-Control": "no-store"}


def _land(row: LandFigures) -> LandStatistics:
    return LandStatistics(
        land=row.land or "", actions=row.actions, cancelled=row.cancelled, places=row.places,
        online=row.online, registrations=row.registrations, seats_confirmed=row.seats_confirmed,
        seats_waiting=row.seats_waiting, capacity=row.capacity,
        fill_rate=round(row.fill_rate, 4) if row.fill_rate is not None else None,
    )  # fmt: skip


async def _figures(request: Request, year: int) -> EditionFigures:
    statistics: Statistics = state_of(request, "statistics")
    return await statistics.of(year)


@router.get(
    "/editions/{year}/statistics",
    response_model=EditionStatistics,
    summary="Actions, places, registrations and fill rate per Land (admin)",
)
async def edition_statistics(
    request: Request, year: YearPath, _caller: AdminCaller, response: Response
) -> EditionStatistics:
    figures = await _figures(request, year)
    response.headers.update(PRIVATE)
    return EditionStatistics(
        year=figures.year, date=figures.date, final=figures.final,
        total=_land(figures.total), by_land=[_land(row) for row in figures.by_land],
    )  # fmt: skip


@router.get(
    "/editions/{year}/statistics.csv",
    summary="The statistics as CSV for German Excel (admin; `;`, BOM, no formulas)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def edition_statistics_csv(
    request: Request, year: YearPath, _caller: AdminCaller
) -> Response:
    figures = await _figures(request, year)
    return Response(
        "".join(excel_csv_lines(csv_rows(figures))),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="aktionstag-{year}-statistik.csv"',
                 **PRIVATE},
    )  # fmt: skip


@router.get("/aktionstag/{year}/statistik", response_class=HTMLResponse, include_in_schema=False)
async def statistics_page(request: Request, year: YearPath, _caller: AdminPage) -> HTMLResponse:
    """The short report of the day: totals, the table per Land, the CSV link (admin).

    A page: staff reach it with their session (a bearer token still works for programs).
    """
    figures = await _figures(request, year)
    context = {"figures": figures, "year": year, "percent": percent_de}
    response = render(request, "statistics.html", context, private=True)
    return response

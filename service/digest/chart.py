"""The digest's price chart: followed tickers over the window's days, a marker where alerts fired."""

from __future__ import annotations

import io

from service.digest.content import Digest, PricePoint

#: More lines than this make a chart nobody can read; the biggest movers are kept.
MAX_LINES = 8


def price_chart(digest: Digest) -> bytes | None:
    """A PNG of each followed ticker's % change since the first bar shown; None without prices.

    Tickers trade at very different prices (and currencies), so lines start at 0% to compare.
    Drawn on a bare Figure with the Agg canvas: pyplot keeps global state and is not thread-safe.
    """
    # Imported here, not at the top: matplotlib costs most of a second, and only a digest draws.
    import numpy as np
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    series = {t: points for t, points in digest.series.items() if len(points) >= 2}
    if not series:
        return None
    chosen = sorted(series, key=lambda t: -abs(_change(series[t])))[:MAX_LINES]
    zone = digest.recipient.zone
    figure = Figure(figsize=(6.2, 3.0), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    marked = False
    for ticker in sorted(chosen):
        points = series[ticker]
        base = points[0].close
        times = [p.at for p in points]
        values = [(p.close / base - 1) * 100 for p in points]
        (line,) = axes.plot(times, values, label=ticker, linewidth=1.4)
        stamps = np.array([t.timestamp() for t in times])
        for moment in digest.markers.get(ticker, ()):
            if not times[0] <= moment <= times[-1]:
                continue
            level = float(np.interp(moment.timestamp(), stamps, values))
            axes.plot([moment], [level], marker="o", markersize=7, color=line.get_color(), markeredgecolor="#1f2328")
            marked = True
    axes.axhline(0, color="#8c959f", linewidth=0.8)
    axes.set_ylabel("% change")
    axes.xaxis.set_major_locator(mdates.DayLocator(tz=zone))
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%a %d", tz=zone))
    axes.grid(True, axis="y", color="#d0d7de", linewidth=0.5)
    axes.legend(loc="upper left", fontsize=8, ncol=4, frameon=False)
    title = "Followed tickers, % change" + (" (dots: alerts)" if marked else "")
    axes.set_title(title, fontsize=10, loc="left")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _change(points: tuple[PricePoint, ...]) -> float:
    return points[-1].close / points[0].close - 1

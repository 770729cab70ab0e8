"""Each report section's chart as an SVG drawn on the server, to sit inline in the page beside its table.

pygal draws the bars; what it adds for its own scripts and styles is taken out again, since
the site's content security policy allows neither inline scripts nor inline styles: the
colours and type come from static/css/app.css, and the table beside the chart is what
screen readers read, so the drawing is one labelled image.
"""

from __future__ import annotations

import re
import sys
from itertools import count

import pygal
from markupsafe import Markup, escape

from instructor_portal.money import format_money
from instructor_portal.organiser.report_scope import Section
from instructor_portal.organiser.report_tables import Kind

# pygal adds an import hook for its map plugins written the pre-3.4 way, which makes every later import
# that misses warn (an error in the tests); no map is drawn here, so it goes.
sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, pygal.PluginImportFixer)]

#: pygal's inline <script> (its settings for a tooltip script we never send), <style>, comments and style attributes.
_UNWANTED = re.compile(r"<script.*?</script>|<style.*?</style>|<!--.*?-->| style=\"[^\"]*\"", re.S)
#: pygal's opening tag, whose size and viewBox stay while its random id goes and a label comes in.
_OPENING = re.compile(r'<svg xmlns="http://www.w3.org/2000/svg" id="[^"]*" class="pygal-chart"(?P<size>[^>]*)>')
_ids = count(1)
WIDTH, HEIGHT = 800, 380
#: Up to this many, a count's axis is marked at every whole number.
SMALL_COUNTS = 10
#: Height per bar on a horizontal chart, so long lists of referrers stay readable.
BAR_HEIGHT = 36


def chart_svg(section: Section, currency: str) -> Markup:
    """Draw the section's summary as a bar chart, one series per charted column; nothing when it has no rows."""
    summary = section.summary
    if not summary.rows:
        return Markup("")
    money = summary.columns[[c.label for c in summary.columns].index(section.chart[0])].kind == Kind.MONEY
    chart_type = pygal.HorizontalBar if section.horizontal else pygal.StackedBar if section.stacked else pygal.Bar
    chart = chart_type(
        width=WIDTH,
        height=max(HEIGHT, 140 + BAR_HEIGHT * len(summary.rows)) if section.horizontal else HEIGHT,
        explicit_size=True,  # width and height attributes, so the browser keeps the shape as CSS scales it
        disable_xml_declaration=True,
        js=[],
        css=[],
        no_prefix=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=min(len(section.chart), 4),
        x_label_rotation=0 if section.horizontal or len(summary.rows) <= 8 else 45,
        truncate_label=40,
        value_formatter=(lambda pounds: format_money(round(pounds * 100), currency))
        if money
        else (lambda n: f"{n:,.0f}"),
        min_scale=1,
        max_scale=6,
    )
    chart.x_labels = [str(row[0]) for row in summary.rows]
    series = [summary.column(label) for label in section.chart]
    for label, values in zip(section.chart, series, strict=True):
        chart.add(label, [value / 100 for value in values] if money else values)
    tallest = max(
        (sum(v or 0 for v in bar) if section.stacked else max((v or 0 for v in bar), default=0))
        for bar in zip(*series, strict=True)
    )
    if not money and tallest <= SMALL_COUNTS:  # whole steps, or pygal marks 0.2, 0.4 ... all shown as "0"
        chart.y_labels = list(range(0, int(tallest) + 1))
    svg = _UNWANTED.sub("", chart.render(is_unicode=True))
    title_id = f"chart-{section.key}-{next(_ids)}"
    described = f"{section.title}: {', '.join(section.chart)}, by {summary.columns[0].label.lower()}"
    label = (
        f'aria-labelledby="{title_id}"><title id="{title_id}">{escape(described)}. The table gives the numbers.</title>'
    )
    svg = _OPENING.sub(
        lambda match: (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="pygal-chart report-chart" role="img"{match["size"]} {label}'
        ),
        svg,
        count=1,
    )
    return Markup(svg)

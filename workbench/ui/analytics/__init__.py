"""The Analytics page's parts: filters (kept in the URL), one module per figure group, the
cached reads and the admins' drill-down."""

from workbench.ui.analytics.chart import chart_config, show_figure
from workbench.ui.analytics.drilldown import drilldown_panel
from workbench.ui.analytics.filters import filter_widgets, remember, restore

__all__ = [
    "chart_config",
    "drilldown_panel",
    "filter_widgets",
    "remember",
    "restore",
    "show_figure",
]

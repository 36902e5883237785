"""The monthly report as JSON and as a self-contained HTML page with inline SVG charts.

matplotlib's own diagnostics (its start-up, building its font cache, a temporary config
directory) are the library's business, not the service's log: its logger reports errors
only, set here, before ``charts`` imports it.
"""

import logging

logging.getLogger("matplotlib").setLevel(logging.ERROR)

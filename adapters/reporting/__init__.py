"""The monthly report as JSON and as a self-contained HTML page with inline SVG charts."""

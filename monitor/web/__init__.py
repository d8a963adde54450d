"""The analysts' web console: inbox of stories, story pages with feedback, the rule editor with a
live backtest preview, feeds and deliveries, and a JSON API (docs/console.md, docs/api.md).

Importing this package loads no web framework; monitor.web.app builds the Starlette application.
"""

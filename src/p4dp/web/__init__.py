"""The web application (FastAPI): pages, the JSON API under /api/v1, static files. See docs/web.md."""

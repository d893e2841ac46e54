"""The local web app of ``llm-roofline serve`` (the ``serve`` extra: FastAPI and uvicorn).

``app.create_app()`` builds it: the live report page at ``/`` and the JSON API under
``/api``; ``service`` holds what the routes call (framework-free; ``cli/web.py`` uses its
``page_document`` too). Importing this package imports neither FastAPI nor the engine.
"""

"""postcart.web: the workbench in a browser, over the same core as the CLI.

``create_app(database_url=None, *, https=False)`` returns the FastAPI application;
``postcart serve`` runs it with uvicorn.
"""

from postcart.web.app import create_app

__all__ = ["create_app"]

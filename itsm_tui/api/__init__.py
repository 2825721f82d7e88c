"""The HTTP API (``itsm-tui serve``): a thin shell over the same services as the TUI and the CLI.

``app.create_app`` builds the FastAPI application; ``auth`` turns a bearer token into the acting
user; ``problems`` answers every error as ``application/problem+json``; one module per resource
(``tickets``, ...) holds its routes, each calling a service and shaping what it returns.
"""

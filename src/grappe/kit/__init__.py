"""The shared kit below the domains: helpers every domain may use, importing none of them.

It imports neither SQLAlchemy nor FastAPI, so the analysis domains (refdata, fabric,
detection) use it as freely as the registry does; ``tests/test_architecture.py`` checks it.
"""

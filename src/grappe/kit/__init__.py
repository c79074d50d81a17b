"""The shared kit below the domains: helpers every domain may use, importing none of them.

``export`` and ``dates`` import neither SQLAlchemy nor FastAPI, so the analysis domains
(refdata, fabric, detection) use them as freely as the registry does. ``unit`` (the unit of
work), ``repository`` (the repository base) and ``audit`` (the audit hook) are the SQL kit
of the operational domains, over :mod:`grappe.storage.sql`.
"""

"""The Flask service: pages, feeds, the editor's form, the JSON API and the scheduled jobs.

``create_app`` (``app``) builds it; each surface is a subpackage: ``pages``,
``feeds``, ``api``, ``editing`` and ``operations``. Only this package
imports flask, feedgen and apscheduler.
"""

from .app import create_app

__all__ = ["create_app"]

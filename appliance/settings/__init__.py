"""Settings modules, one per mode: ``production``, ``quickstart`` and ``test``.

``DJANGO_SETTINGS_MODULE`` selects the mode. ``manage.py`` defaults to the
quick start; every unit in ``deploy/`` sets production explicitly.
"""

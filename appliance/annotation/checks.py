"""A system check that the annotation taxonomy loads, so that a malformed
file stops ``manage.py check`` (and start-up checks) with its problem named,
rather than failing each annotation."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register

from appliance.annotation import taxonomy


@register()
def taxonomy_loads(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    taxonomy.reset()
    try:
        taxonomy.load()
    except taxonomy.TaxonomyError as exc:
        return [Error(str(exc), id="annotation.E001")]
    return []

"""Sphinx extension: the Colab and Binder launch buttons appear only once the repository is named.

The buttons link to a notebook in the course's public repository (``repository.url`` in
``_config.yml``). Until the course has one, ``sphinx-book-theme`` would fail on the empty address
(``cannot unpack non-iterable NoneType``), so this drops the launch providers from the theme's
options and the pages keep their download button. Set the address and the buttons appear.
"""

from sphinx.util import logging

logger = logging.getLogger(__name__)
PROVIDERS = ("binderhub_url", "jupyterhub_url", "colab_url", "jupyterlite_url")


def _launch_buttons_need_a_repository(app, config):
    options = config.html_theme_options
    launch_buttons = options.get("launch_buttons") or {}
    if not options.get("repository_url") and any(launch_buttons.get(key) for key in PROVIDERS):
        options["launch_buttons"] = {key: value for key, value in launch_buttons.items() if key not in PROVIDERS}
        logger.info("launch buttons: no repository.url in _config.yml, so no Colab or Binder buttons")


def setup(app):
    app.connect("config-inited", _launch_buttons_need_a_repository)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx extension: include each script once per page.

sphinx-thebe and sphinx-togglebutton register their inline configuration scripts twice, with
a file name of ``None`` once and ``""`` once (so Sphinx's own check for duplicates lets both through): pages declared
``const THEBE_JS_URL`` twice and the browser logged a SyntaxError on every page (found by
``tests/book/test_browser.py``). This keeps the first of scripts with the same file and the same body.
"""


def _unique_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", None) or "", attributes.get("body"))  # None and "" both mean inline
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _unique_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx configuration of the skensemble documentation.

The build runs offline: no intersphinx inventories are downloaded, and the
gallery examples use only data bundled with scikit-learn.
"""

import os
import re
import sys
from datetime import date

from docutils.utils import get_source_line

# Document the skensemble of this checkout, not an installed copy.
sys.path.insert(0, os.path.abspath(".."))
# The gallery's networks are tiny: one torch thread is several times faster than
# two that compete for the cores (measured: 2.7 s against 19 s of CPU time for the
# quickstart's TabMRegressor). Set before torch is imported; a user's value wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import skensemble

project = "skensemble"
author = "The skensemble developers"
copyright = f"{date.today().year}, {author}"
version = release = skensemble.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build"]
# A References list may name works the text does not cite with [1]_; a citation
# that does not exist is still an error.
suppress_warnings = ["ref.footnote", "ref.citation"]

# -- API pages -----------------------------------------------------------------
autosummary_generate = True
numpydoc_show_class_members = False
# A method without a docstring stays undocumented instead of showing its base
# class's text (e.g. torch's generic ``Module.forward``).
autodoc_inherit_docstrings = False
numpydoc_class_members_toctree = False

# -- Benchmark results (Markdown written by benchmarks/*.py) --------------------
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# -- Gallery -------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "write_computation_times": False,
}

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skensemble {version}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}


# -- Docstring hooks -------------------------------------------------------------
_SHAPE = re.compile(r"shape \(([^()]*)\)")
_FITTED_NAME = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![`\w])")


def _quote_fitted_names_in_shapes(app, what, name, obj, options, lines):
    """Quote fitted attribute names in shapes: ``(n_features_in_,)``.

    A bare ``name_`` is a hyperlink reference in reStructuredText, so a type like
    ``ndarray of shape (n_features_in_,)`` is an "Unknown target name" error.
    """

    def quote(match):
        return "shape (" + _FITTED_NAME.sub(r"``\1``", match.group(1)) + ")"

    lines[:] = [_SHAPE.sub(quote, line) for line in lines]


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Hide scikit-learn's generated ``set_{method}_request`` methods.

    Their docstrings link into scikit-learn's own user guide and glossary, which
    this offline build cannot resolve.
    """
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def _unlink_sklearn_references(app, env, node, contnode):
    """Leave unlinked the references of docstrings inherited from scikit-learn.

    ``score`` and ``get_metadata_routing`` point to scikit-learn's own labels,
    which only intersphinx could resolve, and this build is offline.
    """
    source, _ = get_source_line(node)
    if "docstring of sklearn." in (source or ""):
        return contnode
    return None


def setup(app):
    # Runs before numpydoc (priority 500) so numpydoc sees the quoted names.
    app.connect("autodoc-process-docstring", _quote_fitted_names_in_shapes, 400)
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
    app.connect("missing-reference", _unlink_sklearn_references)

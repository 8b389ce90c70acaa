"""The server-rendered pages live as Jinja files in dashboard/templates, not in Python strings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from jinja2 import Environment, FileSystemLoader

import dashboard
from dashboard.pages import resident

PACKAGE = Path(dashboard.__file__).resolve().parent
TEMPLATES = PACKAGE / "templates"
NAMES = sorted(Environment(loader=FileSystemLoader(TEMPLATES)).list_templates())


def test_the_folder_holds_the_pages():
    expected = {"base.html", "login.html", "outage.html", "resident/base.html",
                *(f"resident/{page}.html" for page in resident.HEADINGS)}
    assert expected <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_template_parses(name):
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    env.get_template(name)


@pytest.mark.parametrize("name", NAMES)
def test_every_template_is_autoescaped_and_marks_nothing_safe(name):
    # Flask escapes by file extension; a resident's words must never reach a page as markup.
    assert Flask("dashboard.app").select_jinja_autoescape(name)
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    assert not re.search(r"\|\s*safe\b|autoescape\s+false", source)


def test_the_app_server_finds_the_folder():
    # dash.Dash(__name__) in dashboard.app names the Flask app after that module.
    assert Path(Flask("dashboard.app").jinja_loader.searchpath[0]).resolve() == TEMPLATES


def test_no_module_holds_an_html_document():
    doctype = re.compile(r"<!doctype", re.IGNORECASE)
    offenders = [str(path.relative_to(PACKAGE)) for path in sorted(PACKAGE.rglob("*.py"))
                 if doctype.search(path.read_text(encoding="utf-8"))]
    assert offenders == []

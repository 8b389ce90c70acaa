"""The README and docs say what the program does: commands, options, columns and figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from dashboard.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _documented_commands() -> list[tuple[list[str], list[str]]]:
    """(command words, options) for every `grid-dispatch …` in the README's command table."""
    found = []
    for line in README.splitlines():
        match = re.match(r"\| `grid-dispatch ([^`]+)` \|", line)
        if not match:
            continue
        words = [w for w in re.split(r"\s+", match[1]) if w]
        command = []
        for word in words:
            if word.startswith(("[", "-")) or word.isupper() or word[0] in "<{":
                break
            command.append(word)
        options = re.findall(r"(--[a-z][a-z0-9-]*)", match[1])
        found.append((command, options))
    return found


@pytest.mark.parametrize(("command", "options"), _documented_commands(),
                         ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_every_documented_command_and_option_exists(command, options):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    for option in options:
        assert option in result.output, f"`grid-dispatch {' '.join(command)}` has no {option}"


def test_the_readme_documents_every_command():
    documented = {" ".join(c) for c, _ in _documented_commands()}
    for name, command in main.commands.items():
        subcommands = getattr(command, "commands", None)
        names = [f"{name} {sub}" for sub in subcommands] if subcommands else [name]
        for full in names:
            assert full in documented, f"`grid-dispatch {full}` is missing from the README"


def test_12345_required_columns_are_the_ones_the_importer_requires():
    from dispatch.channels.hotline.read import COLUMNS, REQUIRED

    text = (ROOT / "docs" / "channels.md").read_text(encoding="utf-8")
    line = re.search(r"Required: (.+?)\. Optional", text, re.S)[1]
    named = re.findall(r"`([a-z_]+)`", line)
    assert named == list(REQUIRED)
    for name in REQUIRED:
        assert COLUMNS[name][0] in line


def test_the_demo_figure_for_xipu_is_what_the_screens_show(demo_grids):
    from geo.model import Tier

    micro = demo_grids.tier(Tier.MICRO)
    xipu = int(micro[micro["code"].str.startswith("510117006")]["residents"].sum())
    text = (ROOT / "docs" / "demo-data.md").read_text(encoding="utf-8")
    assert f"{xipu:,}" in text


def test_withheld_open311_services_say_so():
    from dispatch.channels.open311.spec import PUBLIC_WITHHELD_CLASSES, services

    for service in services():
        withheld = service["service_code"][:2] in PUBLIC_WITHHELD_CLASSES
        assert ("not published" in service["description"]) == withheld


def test_the_openapi_names_the_field_of_an_outside_location():
    from dashboard.api.openapi import document

    text = str(document())
    assert "`lon,lat`" in text and "`outside` for a location" not in text


def test_every_file_the_readme_names_exists():
    """The architecture section's flows name files in order; a renamed file must update them."""
    named = set(re.findall(r"`((?:dispatch|dashboard|geo|bench|assets|tests)/[\w/.-]+)`",
                           README))
    assert len(named) > 20
    missing = sorted(p for p in named if not (ROOT / p.split()[0]).exists())
    assert missing == [], f"README names files that do not exist: {missing}"

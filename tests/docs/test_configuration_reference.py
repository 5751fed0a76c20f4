"""docs/configuration.md is generated from the settings, and every setting is described."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.settings import Settings
from gateway.settings_reference import render_reference

REFERENCE = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_committed_reference_matches_the_settings() -> None:
    assert REFERENCE.read_text() == render_reference(), (
        "docs/configuration.md is stale: run `python -m gateway config-reference > docs/configuration.md`"
    )


def test_every_setting_has_a_description() -> None:
    assert [name for name, field in Settings.model_fields.items() if not field.description] == []


def test_every_setting_is_one_row_named_by_its_variable() -> None:
    rows = [line for line in render_reference().splitlines() if line.startswith("| `GATEWAY_")]
    variables = [row.split("`")[1] for row in rows]
    assert variables == [f"GATEWAY_{name.upper()}" for name in Settings.model_fields]


def test_defaults_are_shown_and_secrets_are_not() -> None:
    text = render_reference()
    assert "| `GATEWAY_MAX_PAGE_SIZE` | integer ≥ 1 | `1000` |" in text
    assert "| `GATEWAY_AUTH` | `none` \\| `jwt` | `none` |" in text
    assert Settings().cursor_secret.get_secret_value() not in text


def test_the_command_prints_the_reference() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "gateway", "config-reference"], capture_output=True, text=True, check=True
    ).stdout
    assert printed == render_reference()

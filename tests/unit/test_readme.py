"""The README's settings table names every setting the program accepts."""

from pathlib import Path

from autoinvest.config import ENV_PREFIX, Settings

README = Path(__file__).parents[2] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text()
    names = ["DATABASE_URL" if n == "database_url" else ENV_PREFIX + n.upper() for n in Settings.model_fields]
    assert [n for n in names if f"`{n}`" not in text] == []

"""Every `--help` of the command line: French frame, documented options, an example, one flag scheme.

The commands are found by walking the Typer/Click tree, so a command added tomorrow is checked
without touching this file.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import typer.main
from typer.testing import CliRunner

from grappe.cli import app

runner = CliRunner()

#: The English flag names of the product (CONTRACTS "Command line"), one scheme for every
#: command. A new flag joins this list on purpose; a French one (`--au`, `--jeton`) fails.
FLAGS = frozenset({
    # the scheme CONTRACTS names
    "--store", "--level", "--sectors", "--at", "--from", "--to", "--top", "--format", "--out",
    "--token", "--for", "--strict", "--include-local", "--scope",
    # fabric (a source of the store, by id or file name)
    "--source",
    # analysis
    "--engine", "--measure", "--table", "--map", "--permutations", "--alpha", "--seed",
    "--dir", "--establishments", "--region", "--invalid-rate", "--strength", "--delimiter",
    "--encoding", "--min-establishments", "--min-employment", "--save",
    # registry
    "--as", "--acronym", "--commune", "--epci", "--department", "--naf", "--sector-group",
    "--legal-form", "--founded", "--website", "--description", "--current", "--issue",
    "--date", "--method", "--reference", "--label", "--size", "--joined", "--left",
    "--membership-type", "--siret", "--cluster", "--organisation", "--all", "--role",
    "--funder", "--language",
    # registry: the manager's daily tasks (import update, tokens, contacts, exits, waivers)
    "--update", "--accept-unknown", "--name", "--user", "--reason", "--position", "--email",
    "--phone", "--directory", "--no-directory",
    # batch solvers: B2B schedule, reviewer assignment, selection
    "--participants", "--wishes", "--slots", "--tables", "--max-meetings", "--time-limit",
    "--reviewers", "--applications", "--affinity", "--conflicts", "--per-application",
    "--load-cap", "--min-score", "--partial", "--max-share",
    # stored B2B meetings (partners meeting)
    "--slot-minutes", "--event", "--unavailable", "--priority", "--withdraw",
    # stored calls for projects
    "--spec", "--call", "--file", "--mark", "--comment", "--normalised",
    "--justification", "--notify",
    # cooperation
    "--kind", "--orientation", "--intensity", "--decline", "--confidential", "--category",
    "--coordinator", "--budget", "--town", "--country", "--status", "--year", "--amount",
    "--brokered",
    # cooperation: events and shared equipment
    "--title", "--place", "--capacity", "--price", "--shared-stand", "--private", "--seats", "--absent",
    "--rate", "--cost", "--share", "--unit", "--quantity",
    # cooperation network (its layers and the files beside the measures)
    "--layers", "--graphml", "--gexf", "--picture", "--compare-to",
    # partners: profiles, interclustering, calls for partners
    "--capabilities", "--products", "--technologies", "--equipment", "--needs", "--markets",
    "--keywords", "--tags", "--visibility", "--consent", "--no-consent", "--with", "--nobody",
    "--deadline", "--message", "--closed",
    # evaluation: evidence files, contract tables, thresholds, peers
    "--evidence", "--targets", "--thresholds", "--peers",
    # paging of long lists (not "the N best", which is --top)
    "--limit",
    # serve
    "--host", "--port", "--workers",
    # Typer's own
    "--help", "--install-completion", "--show-completion",
})

#: Phrases of Typer/Click's English frame ("Options" and "Arguments" are French words too).
ENGLISH_FRAME = (
    "Show this message and exit", "[default:", "[required]", "Usage:", "Commands",
    "Try '", "Error", "Install completion", "Show completion", "<str>", "<int>", "<bool>",
    "<path>", "<float>", "<Path>",
)


def _commands() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def _command(path: tuple[str, ...]) -> typer.main.TyperCommand:
    command: object = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return command  # type: ignore[return-value]


def _flat(text: str) -> str:
    """The help page without Rich's boxes and line breaks, so that a phrase is not cut."""
    return re.sub(r"[\s│╭╮╰╯─]+", " ", text)


COMMANDS = _commands()


def test_the_walk_finds_every_group_and_leaf() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert {"", "fabric import", "registry user-add", "detect", "refdata naf"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(("grappe", *p)))
def test_help_is_french_documented_and_shows_an_example(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    page = _flat(result.output)
    for phrase in ENGLISH_FRAME:
        assert phrase not in page, f"{' '.join(path)} --help : {phrase!r} (cadre anglais)"
    assert "Utilisation : " in page
    assert "Afficher cette aide et quitter" in page
    assert "Exemple : grappe" in page or "Exemple : pip" in page, f"{path}: pas d'exemple"
    command = _command(path)
    if getattr(command, "commands", None):
        assert "Commandes" in page
    for parameter in command.params:
        assert getattr(parameter, "help", None), f"{' '.join(path)} : {parameter.name} sans aide"
        for flag in (*parameter.opts, *parameter.secondary_opts):
            if flag.startswith("-"):
                assert flag in FLAGS, f"{' '.join(path)} : {flag} hors du schéma des options"


def test_role_choices_are_whole_words_in_the_help() -> None:
    from grappe.cli.registry import ROLES
    from grappe.registry.models import Role

    assert set(ROLES) == {role.value for role in Role}
    page = _flat(runner.invoke(app, ["registry", "user-add", "--help"]).output)
    for role in ROLES:
        assert re.search(rf"\b{role}\b", page), role


def test_the_light_cluster_level_is_refdata_s() -> None:
    from grappe.detection.levels import CLUSTER_LEVEL
    from grappe.refdata.clusters import LEVEL

    assert CLUSTER_LEVEL == LEVEL


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["fabric", "import", "--nope"], "Erreur : option inconnue : --nope"),
        (["fabric", "import"], "Erreur : il manque l'argument 'FICHIERS'"),
        (["fabric", "synth"], "Erreur : il manque l'option '--out'"),
        (["serve", "--port", "0"], "Erreur : valeur invalide pour '--port' ('0') : valeur minimale 1"),
        (["registry", "pay", "x", "3"], "Erreur : valeur invalide pour 'APPEL' ('x') : nombre entier"),
        (["nope"], "Erreur : commande inconnue : 'nope'"),
        (["detect", "--top", "a"], "Erreur : valeur invalide pour '--top' ('a') : nombre entier"),
    ],
)
def test_usage_errors_are_one_french_line_with_status_2(args: list[str], expected: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected), lines[0]
    assert lines[0].endswith("--help"), lines[0]  # where to read more
    assert result.stdout == ""


#: Libraries `--help` must not load: each costs tenths of a second and tens of MiB.
HEAVY = ("pandas", "duckdb", "ibis", "sqlalchemy", "alembic", "numba", "numpy", "scipy",
         "pyarrow", "fastapi", "uvicorn", "pydantic_settings", "matplotlib", "openpyxl", "igraph")

_PROBE = """
import contextlib, io, sys
sys.argv = ["grappe", *sys.argv[1:], "--help"]
from grappe.cli import app
with contextlib.redirect_stdout(io.StringIO()):
    try:
        app()
    except SystemExit:
        pass
print(" ".join(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize(
    "path", [(), ("registry", "user-add"), ("detect",), ("demo",), ("fabric", "import"),
             ("refdata", "naf"), ("indicators",), ("cooperation", "network")],
    ids=lambda p: " ".join(("grappe", *p)),
)
def test_help_does_not_import_heavy_libraries(path: tuple[str, ...]) -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=HEAVY), *path],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"{' '.join(path)} --help importe : {done.stdout.strip()}"

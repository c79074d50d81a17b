"""Typer's own frame in French: usage line, panels, markers, help option and usage errors.

Typer (0.29) vendors Click with its English texts written as literals, not through gettext,
and keeps its panel titles and markers in module constants of ``typer.rich_utils``: there is
no catalogue to install, so :func:`install` sets those constants and wraps the few methods
that write English, once, for every command of the app. Usage errors become one French line
on stderr (what and where) with Click's exit status 2.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import inspect
import re
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import typer.completion
import typer.core
from typer._click import core as click_core
from typer._click import exceptions as click_exceptions
from typer._click import formatting as click_formatting

USAGE_PREFIX = "Utilisation : "
HELP_OPTION_HELP = "Afficher cette aide et quitter."
COMMANDS_PANEL = "Commandes"

#: Typer's constants, in French ("Options" and "Arguments" are French words too).
RICH_CONSTANTS = {
    "DEFAULT_STRING": "[défaut : {}]",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "ENVVAR_STRING": "[variable d'environnement : {}]",
    "DEPRECATED_STRING": "(obsolète) ",
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": COMMANDS_PANEL,
    "ERRORS_PANEL_TITLE": "Erreur",
    "ABORTED_TEXT": "Interrompu.",
    "RICH_HELP": "Aide : [blue]'{command_path} {help_option}'[/]",
}

#: Help of the completion options Typer adds to the root command, by option.
COMPLETION_HELP = {
    "install_completion": "Installer l'autocomplétion pour le shell courant.",
    "show_completion": "Afficher le script d'autocomplétion du shell courant, à copier ou adapter.",
}

#: Type names Typer shows beside each parameter (``<int>``, ``<list[Path]>``…).
TYPE_NAMES = {
    "str": "texte",
    "int": "entier",
    "float": "nombre",
    "bool": "oui/non",
    "Path": "chemin",
    "path": "chemin",
    "file": "fichier",
    "directory": "dossier",
    "datetime": "date",
    "list": "liste",
    "range": "",
}
_TYPE_WORD = re.compile(r"\b(" + "|".join(TYPE_NAMES) + r")\b")

#: Usage errors Click raises with a bare English message (``ctx.fail`` and the parser).
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Missing command\."), "commande manquante"),
    (re.compile(r"No such command (?P<name>.+)\.(?: Did you mean (?P<near>.+)\?)?$"),
     "commande inconnue : {name}"),
    (re.compile(r"Got unexpected extra argument\(s\) \((?P<args>.*)\)"),
     "arguments en trop : {args}"),
    (re.compile(r"Option (?P<name>\S+) does not take a value\."),
     "l'option {name} ne prend pas de valeur"),
    (re.compile(r"Option (?P<name>\S+) requires (?:an argument|(?P<n>\d+) arguments)\."),
     "l'option {name} attend une valeur"),
    (re.compile(r"Argument (?P<name>\S+) takes (?P<n>\d+) values\."),
     "l'argument {name} attend {n} valeurs"),
    (re.compile(r"(?P<label>\w+) (?P<path>.+) does not exist\."), "{path} introuvable"),
    (re.compile(r"(?P<label>\w+) (?P<path>.+) is a file\."), "{path} est un fichier, dossier attendu"),
    (re.compile(r"(?P<label>\w+) (?P<path>.+) is a directory\."),
     "{path} est un dossier, fichier attendu"),
    (re.compile(r"(?P<label>\w+) (?P<path>.+) is not readable\."), "{path} illisible"),
    (re.compile(r"(?P<label>\w+) (?P<path>.+) is not writable\."), "{path} non modifiable"),
    (re.compile(r"Value (?P<value>.+) is not a valid (?P<label>\w+)\."),
     "valeur {value} invalide"),
)

#: Pydantic's refusals (Typer 0.29 converts values with pydantic), by error type.
_PYDANTIC: dict[str, str] = {
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "bool_parsing": "oui ou non attendu",
    "greater_than_equal": "valeur minimale {ge}",
    "greater_than": "doit dépasser {gt}",
    "less_than_equal": "valeur maximale {le}",
    "less_than": "doit rester sous {lt}",
    "enum": "valeurs possibles : {expected}",
    "literal_error": "valeurs possibles : {expected}",
    "date_from_datetime_parsing": "date AAAA-MM-JJ attendue",
    "date_parsing": "date AAAA-MM-JJ attendue",
    "datetime_parsing": "date AAAA-MM-JJ attendue",
    "path_type": "chemin attendu",
}


def _translate(message: str) -> str:
    for pattern, french in _MESSAGES:
        found = pattern.fullmatch(message.strip())
        if found is not None:
            return french.format(**{k: v or "" for k, v in found.groupdict().items()})
    # An English sentence we do not know: say it is a usage error, keep the value shown.
    return f"ligne de commande refusée ({message})"


def _pydantic_reason(cause: BaseException | None) -> str | None:
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return None
    first: dict[str, Any] = errors()[0]
    template = _PYDANTIC.get(str(first.get("type")))
    if template is None:
        return None
    context = {k: str(v).replace(" or ", " ou ") for k, v in (first.get("ctx") or {}).items()}
    try:
        return template.format(**context)
    except KeyError:
        return template


def error_message(exc: click_exceptions.ClickException) -> str:
    """What a usage error says, in French, on one line (without the ``Erreur :`` prefix)."""
    if isinstance(exc, click_exceptions.NoSuchOption):
        text = f"option inconnue : {exc.option_name}"
        if exc.possibilities:
            text += f" (options proches : {', '.join(sorted(exc.possibilities))})"
        return text
    if isinstance(exc, click_exceptions.BadParameter):
        hint = exc.param_hint if exc.param_hint is not None else (
            exc.param.get_error_hint() if exc.param is not None else None
        )
        if isinstance(hint, (list, tuple)):
            hint = " / ".join(repr(x) for x in hint)
        if isinstance(exc, click_exceptions.MissingParameter):
            kind = "l'argument" if getattr(exc.param, "param_type_name", "") == "argument" else "l'option"
            return f"il manque {kind} {hint}" if hint else "il manque une valeur"
        reason = _pydantic_reason(exc.__cause__) or _translate(exc.message)
        value = _pydantic_input(exc.__cause__)
        where = f"{hint}{f' ({value})' if value else ''}" if hint else value
        return f"valeur invalide pour {where} : {reason}" if where else f"valeur invalide : {reason}"
    return _translate(exc.format_message())


def _pydantic_input(cause: BaseException | None) -> str | None:
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return None
    value = errors()[0].get("input")
    return None if value is None else repr(value)[:60]


def _render_error(exc: click_exceptions.ClickException) -> None:
    """One French line on stderr; Typer then exits with the error's status (2 for usage)."""
    if isinstance(exc, click_exceptions.NoArgsIsHelpError):
        return  # the help page is the answer (a group run without a command)
    ctx = getattr(exc, "ctx", None)
    where = f" — aide : {ctx.command_path} --help" if ctx is not None else ""
    # Imported here: the console module imports Rich's progress machinery.
    from grappe.cli._console import err_console

    err_console.print(f"Erreur : {error_message(exc)}{where}", markup=False, highlight=False,
                      soft_wrap=True)


def _render_abort() -> None:
    print("Interrompu.", file=sys.stderr)


def _french_type(label: str | None) -> str | None:
    if label is None:
        return None
    return re.sub(r"<\s*>|\s+>", ">", _TYPE_WORD.sub(lambda m: TYPE_NAMES[m.group(1)], label))


def _french_rich_utils(rich_utils: Any) -> None:
    """Typer's Rich frame in French: its constants, its error and abort renderers."""
    if rich_utils.rich_format_error is _render_error:
        return
    for name, value in RICH_CONSTANTS.items():
        setattr(rich_utils, name, value)
    rich_utils.rich_format_error = _render_error
    rich_utils.rich_abort_error = _render_abort
    rich_utils.OptionHighlighter.highlights = [
        h.replace("Usage: ", USAGE_PREFIX) for h in rich_utils.OptionHighlighter.highlights
    ]


RICH_UTILS = "typer.rich_utils"


class _RichUtilsFinder(importlib.abc.MetaPathFinder):
    """Puts ``typer.rich_utils`` in French as soon as it is imported.

    Typer imports it only to render a help page or an error; the module pulls Rich's Markdown,
    syntax highlighting and Pygments (about 0.15 s), which a command that runs normally never
    needs.
    """

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != RICH_UTILS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_in_french(module: ModuleType) -> None:
            exec_module(module)
            _french_rich_utils(module)

        loader.exec_module = exec_in_french  # type: ignore[method-assign]
        return spec


_installed: list[bool] = []


def install() -> None:
    """Put Typer's frame in French for every command (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    if RICH_UTILS in sys.modules:
        _french_rich_utils(sys.modules[RICH_UTILS])
    else:
        sys.meta_path.insert(0, _RichUtilsFinder())
    for placeholder in (
        typer.completion._install_completion_placeholder_function,
        typer.completion._install_completion_no_auto_placeholder_function,
    ):
        for name, parameter in inspect.signature(placeholder).parameters.items():
            parameter.default.help = COMPLETION_HELP[name]

    write_usage = click_formatting.HelpFormatter.write_usage

    def french_usage(self: click_formatting.HelpFormatter, prog: str, args: str = "",
                     prefix: str | None = None) -> None:
        write_usage(self, prog, args.replace("COMMAND [ARGS]", "COMMANDE [ARGS]"),
                    USAGE_PREFIX if prefix is None else prefix)

    click_formatting.HelpFormatter.write_usage = french_usage  # type: ignore[method-assign]

    get_help_option = click_core.Command.get_help_option

    def french_help_option(self: click_core.Command, ctx: click_core.Context) -> Any:
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = HELP_OPTION_HELP
        return option

    click_core.Command.get_help_option = french_help_option  # type: ignore[method-assign]

    display_type = typer.core._TyperParameter.display_type

    def french_display_type(self: typer.core._TyperParameter, ctx: click_core.Context) -> str:
        return _french_type(display_type(self, ctx)) or ""

    typer.core._TyperParameter.display_type = french_display_type  # type: ignore[method-assign]

    option_type = typer.core.TyperOption.display_type_rich

    def flag_without_type(self: typer.core.TyperOption, ctx: click_core.Context) -> str | None:
        # A flag takes no value: "<oui/non>" beside it would suggest one.
        return None if self.is_flag and self.metavar is None else option_type(self, ctx)

    typer.core.TyperOption.display_type_rich = flag_without_type  # type: ignore[method-assign]

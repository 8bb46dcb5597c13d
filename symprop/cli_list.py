"""`symprop list [activations|losses|optimizers|datasets]`: what symprop knows, with each
name's formula or description and its hyperparameters and defaults. Read from the catalog
(no SymPy import), so it answers at once."""

from __future__ import annotations

import inspect

KINDS = ("activations", "losses", "optimizers", "datasets")


def add_parser(commands) -> None:
    listing = commands.add_parser(
        "list", help="list the built-in activations, losses, optimizers and data sets",
        description="The names symprop knows, each with its formula or description and its "
                    "hyperparameters (with their defaults).",
        epilog="examples: symprop list | symprop list activations")
    listing.add_argument("kind", nargs="?", choices=KINDS,
                         help="what to list (default: everything)")
    listing.set_defaults(handler=run)


def run(args) -> int:
    for index, kind in enumerate([args.kind] if args.kind else KINDS):
        if index:
            print()
        print(f"{kind}:")
        for line in _table(ROWS[kind]()):
            print(f"  {line}")
    return 0


def _hyper(defaults: dict) -> str:
    return ", ".join(f"{name}={value:g}" for name, value in defaults.items())


def _catalog(entries: dict, aliases: dict) -> list[tuple[str, ...]]:
    """Catalog entries as rows: name, description (and the aliases it goes by), defaults."""
    also: dict[str, list[str]] = {}
    for alias, name in aliases.items():
        also.setdefault(name, []).append(alias)
    return [(name, entry.summary + (f" (also: {', '.join(also[name])})" if name in also
                                    else ""), _hyper(entry.defaults))
            for name, entry in entries.items()]


def _activations() -> list[tuple[str, ...]]:
    from symprop.catalog import ACTIVATION_ALIASES, ACTIVATIONS

    return _catalog(ACTIVATIONS, ACTIVATION_ALIASES) + [
        ("a formula in x", "e.g. 'x*tanh(log(1+exp(x)))' as an --arch activation, or "
                           "symprop derive FORMULA", "")]


def _losses() -> list[tuple[str, ...]]:
    from symprop.catalog import LOSS_ALIASES, LOSSES

    return _catalog(LOSSES, LOSS_ALIASES)


OPTIMIZER_RULES = {
    "sgd": "w -= lr * g (with momentum: v = momentum*v + g, w -= lr * v; nesterov too)",
    "adam": "m, v: moving averages of g and g^2, bias-corrected; w -= lr * m / (sqrt(v) + eps)",
    "rmsprop": "v: moving average of g^2; w -= lr * g / (sqrt(v) + eps)",
}


def _optimizers() -> list[tuple[str, ...]]:
    from symprop.runtime.optimizers import OPTIMIZERS

    rows = []
    for name, cls in OPTIMIZERS.items():
        defaults = {key: p.default for key, p in inspect.signature(cls).parameters.items()
                    if isinstance(p.default, int | float) and not isinstance(p.default, bool)}
        rows.append((name, OPTIMIZER_RULES.get(name, ""), _hyper(defaults)))
    return rows


DATASET_NOTES = {
    "iris": "150 flowers, 4 measurements, 3 species",
    "digits": "1,797 8x8 images of handwritten digits, 10 classes",
    "wine": "178 wines, 13 chemical measurements, 3 cultivars",
    "breast_cancer": "569 tumours, 30 features, malignant or benign",
    "moons": "two interleaving half circles, 2 features (generated: 500 rows, noise 0.2)",
    "circles": "a circle inside another, 2 features (generated: 500 rows, noise 0.1)",
    "make_classification": "generated, 1,000 rows, 20 features, 2 classes",
}


def _datasets() -> list[tuple[str, ...]]:
    from symprop.runtime.data import DATASETS, SUGGESTED

    return [(name, DATASET_NOTES.get(name, ""),
             "suggested: {} ({})".format(*SUGGESTED[name]) if name in SUGGESTED else "")
            for name in DATASETS]


ROWS = {"activations": _activations, "losses": _losses, "optimizers": _optimizers,
        "datasets": _datasets}


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            .rstrip() + (f"  [{row[-1]}]" if row[-1] else "") for row in rows]

"""crvUSD LLAMMA, `kind = "llamma"`: model, pack, kernel, twin; rules in README.md.

Protocol actions (``lc.protocols.llamma``, :mod:`.actions`): ``create_loan``, ``health``, ``bands``, ``user_prices``, ``max_borrowable``, ``Market``
… — loaded on first use, so the kernel modules stay importable on their own.
"""

import importlib

_ACTIONS = ('create_loan', 'health', 'bands', 'user_prices', 'max_borrowable', 'Market', 'Band', 'LlammaError', 'LoanAlreadyCreated', 'NeedMoreTicks', 'NeedLessTicks', 'DebtTooHigh', 'AmountTooLow', 'NoLoan', 'NotEnoughStablecoin')


def __getattr__(name: str):
    if name in _ACTIONS:
        # imported by name: the registry itself stays free of package imports (kernels read it)
        actions = importlib.import_module(f"{__name__}.actions")
        value = getattr(actions, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_ACTIONS))

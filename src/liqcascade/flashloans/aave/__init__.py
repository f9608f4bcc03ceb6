"""Flash-loan source ``aave``: Aave v3 ``flashLoanSimple`` with ``FLASHLOAN_PREMIUM_TOTAL``."""

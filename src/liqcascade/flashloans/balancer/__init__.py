"""Flash-loan source ``balancer``: Balancer v2 Vault ``flashLoan`` (fee percentage, today 0)."""
